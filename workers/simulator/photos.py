"""Small JPEG photos made in memory (Pillow): the before/after pictures of feedback and the photos of returns."""

from __future__ import annotations

import io
import random
from functools import lru_cache

# Base colours per part: a grimy scene before, a clean green one after, a grey site photo for a return.
COLOURS = {
    "before": (118, 92, 64),
    "after": (72, 150, 88),
    "photo": (128, 128, 136),
}
SIZE = (96, 72)


def photo(part: str, seed: int = 0, size: tuple[int, int] = SIZE) -> bytes:
    """A small JPEG for one multipart part (before, after, photo): its base colour with a few random blocks."""
    return _photo(part, seed % 16, size)


@lru_cache(maxsize=64)
def _photo(part: str, seed: int, size: tuple[int, int]) -> bytes:
    from PIL import Image, ImageDraw

    rng = random.Random(f"{part}:{seed}")
    base = COLOURS.get(part, COLOURS["photo"])
    image = Image.new("RGB", size, base)
    draw = ImageDraw.Draw(image)
    w, h = size
    for _ in range(6):
        x, y = rng.randrange(w), rng.randrange(h)
        shade = tuple(max(0, min(255, c + rng.randint(-40, 40))) for c in base)
        draw.rectangle([x, y, x + rng.randint(4, w // 3), y + rng.randint(4, h // 3)], fill=shade)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()
