"""The city's gazetteer: typed Chinese addresses → ranked places (roads with house numbers, landmarks, communities).

Pure and in memory. `Gazetteer` is built once from the entries (roads and landmarks of the imported address
file, communities and streets of the grids) and answers `match(text)` in well under a few milliseconds: the
typed text is normalised and parsed (`parse_address`), a character-bigram and pinyin-bigram inverted index
picks the few entries that share anything with it, and only those are scored with rapidfuzz (characters,
and pinyin so homophone typos such as 汪江路 for 望江路 still match). A road with a house number gives the point
interpolated along the line by number, odd numbers on the left, even on the right.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz
from shapely.geometry import LineString

from geo.grids import Grid, Level
from geo.importer import FeatureProblem

KINDS = ("road", "landmark")  # in the address file; communities and streets come from the grids
ROAD_SUFFIXES = ("大道", "大街", "路", "街", "巷", "弄", "道")  # 望江街 for 望江路: the same core name
AREA_SUFFIXES = ("社区", "街道", "村", "居委会")
SIDE_OFFSET_M = 8.0  # odd numbers this far left of the centre line, even ones right
MIN_SCORE = 60.0
PREFILTER_MAX = 300  # keys scored per query at most
COMMON_GRAM = 0.05  # a bigram in more than this share of the keys does not pick candidates alone
METRES_PER_DEGREE = 111_320.0
KIND_RANK = {"road": 0, "landmark": 1, "community": 2, "street": 3}

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMBER = re.compile(r"([零〇一二两三四五六七八九十百千]+)(?=号|幢|栋|单元|室|层|楼|弄)")
_HOUSE = re.compile(r"(\d+)(?:[-之](\d+))?号(?!楼)")
_NOISE = re.compile(r"[a-z]?\d+(?:号楼|幢|栋|单元|室|层|楼|座)|\d+$")
_DROP = re.compile(r"[^\w\-]|_")


def cn_number(text: str) -> int:
    """八十八 → 88, 一百零五 → 105, 二〇八 → 208 (digit by digit without unit characters)."""
    if not any(c in _UNITS for c in text):
        return int("".join(str(_DIGITS[c]) for c in text))
    total, digit = 0, 0
    for c in text:
        if c in _DIGITS:
            digit = _DIGITS[c]
        else:
            total += (digit or 1) * _UNITS[c]
            digit = 0
    return total + digit


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC), lower case, no spaces or punctuation, Chinese house numbers as digits."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _DROP.sub("", text.replace("－", "-").replace("—", "-"))
    return _CN_NUMBER.sub(lambda m: str(cn_number(m.group(1))), text)


def core(name: str, suffixes: Sequence[str]) -> str:
    """The name without its road or area suffix (望江路 → 望江), or the name if that would leave one character."""
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class ParsedAddress:
    """A typed address taken apart: the text naming the place, and the house number if one was given."""

    text: str  # normalised, building/unit/room noise removed
    place: str  # the part before the house number (the road), or the whole text
    number: int | None = None
    sub_number: int | None = None  # 88-2号 → 2


def parse_address(typed: str) -> ParsedAddress:
    """Normalise and split a typed address; "3幢2单元501室" and the like are dropped as noise."""
    text = normalise(typed)
    house = _HOUSE.search(text)
    if house is None:
        clean = _NOISE.sub("", text)
        return ParsedAddress(clean, clean)
    before, after = text[: house.start()], _NOISE.sub("", text[house.end() :])
    sub = int(house.group(2)) if house.group(2) else None
    return ParsedAddress(before + after, before, int(house.group(1)), sub)


@dataclass(frozen=True)
class Entry:
    """One place of the gazetteer: a road (a line with a house-number range) or a point (landmark, community)."""

    kind: str  # road | landmark | community | street
    name: str
    name_en: str = ""
    aliases: tuple[str, ...] = ()
    coords: tuple[tuple[float, float], ...] = ()  # (lon, lat): a road's line start to end, or one point
    numbers: tuple[int, int] | None = None  # a road's [first, last] along the line
    category: str | None = None
    code: str | None = None  # a community's or street's grid code

    def keys(self) -> list[str]:
        """The normalised names this entry is matched by."""
        names = [normalise(n) for n in (self.name, *self.aliases) if n]
        suffixes = ROAD_SUFFIXES if self.kind == "road" else AREA_SUFFIXES
        cores = [core(n, suffixes) for n in names]
        return list(dict.fromkeys(k for k in names + cores if len(k) >= 2))


@dataclass(frozen=True)
class Candidate:
    """A place a typed address may mean: its point (lon, lat), the label to show, its kind and score (0–100)."""

    label: str
    label_en: str
    kind: str
    lon: float
    lat: float
    score: float
    number: int | None = None
    code: str | None = None


def house_point(coords: Sequence[tuple[float, float]], numbers: tuple[int, int], number: int) -> tuple[float, float]:
    """The point of `number` on a road: interpolated by number along the line (clamped to its ends), then
    SIDE_OFFSET_M to the left for odd numbers, to the right for even ones."""
    first, last = numbers
    fraction = 0.5 if last == first else min(1.0, max(0.0, (number - first) / (last - first)))
    kx = METRES_PER_DEGREE * max(math.cos(math.radians(coords[0][1])), 0.01)
    points = [(x * kx, y * METRES_PER_DEGREE) for x, y in coords]  # local metres
    steps = [math.dist(a, b) for a, b in zip(points, points[1:], strict=False)]
    todo = fraction * sum(steps)
    for i, step in enumerate(steps):
        if todo <= step or i == len(steps) - 1:
            break
        todo -= step
    (ax, ay), (bx, by) = points[i], points[i + 1]
    t = min(1.0, todo / step) if step else 0.0
    dx, dy = (bx - ax) / (step or 1.0), (by - ay) / (step or 1.0)
    side = SIDE_OFFSET_M if number % 2 else -SIDE_OFFSET_M  # left of the direction is (-dy, dx)
    x, y = ax + (bx - ax) * t - dy * side, ay + (by - ay) * t + dx * side
    return x / kx, y / METRES_PER_DEGREE


@lru_cache(maxsize=8192)
def _syllable(char: str) -> str:
    from pypinyin import lazy_pinyin  # its dictionaries take a second to load: only when first needed

    return lazy_pinyin(char)[0] if char else ""


def _pinyin(text: str) -> tuple[str, ...]:
    """Toneless pinyin per character (characters without one stay as they are), cached per character."""
    return tuple(_syllable(c) for c in text)


def _bigrams(items: Sequence[str]) -> set[str]:
    return {items[i] + "\x1f" + items[i + 1] for i in range(len(items) - 1)}


def _similar(key: str, query: str) -> float:
    """How well `key` appears in `query` (or the query in a longer key, while typing): 100 for a substring."""
    if not key or not query:
        return 0.0
    if key in query:
        return 100.0
    if query in key:  # still typing: the longer the rest of the name, the less sure
        return 100.0 - 2.0 * (len(key) - len(query))
    short, long_ = (key, query) if len(key) <= len(query) else (query, key)
    return float(fuzz.partial_ratio(short, long_))


@dataclass
class _Key:
    entry: int
    text: str
    pinyin: str
    is_core: bool


@dataclass
class Gazetteer:
    """The index of every entry; `match` ranks entries for a typed address."""

    entries: list[Entry]
    _keys: list[_Key] = field(default_factory=list, repr=False)
    _postings: dict[str, set[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        postings: dict[str, set[int]] = defaultdict(set)
        for i, entry in enumerate(self.entries):
            names = {normalise(n) for n in (entry.name, *entry.aliases) if n}
            for text in entry.keys():
                syllables = _pinyin(text)
                k = len(self._keys)
                self._keys.append(_Key(i, text, "".join(syllables), text not in names))
                for gram in _bigrams(list(text)) | _bigrams(syllables) | ({text} if len(text) == 2 else set()):
                    postings[gram].add(k)
        self._postings = dict(postings)

    def __len__(self) -> int:
        return len(self.entries)

    def _candidate_keys(self, text: str) -> list[int]:
        """The keys sharing the most character or pinyin bigrams with the text (at least half as many as the
        best, at most PREFILTER_MAX): a typo keeps the other bigrams and the pinyin of a homophone."""
        grams = [self._postings[g] for g in _bigrams(list(text)) | _bigrams(_pinyin(text)) if g in self._postings]
        rare = [p for p in grams if len(p) <= COMMON_GRAM * len(self._keys)]
        hits: Counter[int] = Counter()
        for posting in rare or grams:  # a bigram every tenth name shares (大道, jiang|lu) tells little
            hits.update(posting)
        if not hits:
            return []
        most = max(hits.values())
        return [k for k, n in hits.most_common(PREFILTER_MAX) if 2 * n >= most]

    def match(self, typed: str, limit: int = 8, *, exhaustive: bool = False) -> list[Candidate]:
        """The best `limit` candidates for a typed address, best first (`exhaustive`: score every entry, no index)."""
        parsed = parse_address(typed)
        if len(parsed.text) < 2:
            return []
        keys = range(len(self._keys)) if exhaustive else self._candidate_keys(parsed.text)
        query_pinyin = {t: "".join(_pinyin(t)) for t in {parsed.text, parsed.place}}
        best: dict[int, float] = {}
        for k in keys:
            key = self._keys[k]
            entry = self.entries[key.entry]
            against = parsed.place if entry.kind == "road" and parsed.number is not None else parsed.text
            score = _similar(key.text, against)
            if score < 100.0:
                score = max(score, 0.92 * _similar(key.pinyin, query_pinyin[against]))
            score -= 4.0 if key.is_core else 0.0
            if score > best.get(key.entry, -1.0):
                best[key.entry] = score
        ranked = [(_adjusted(self.entries[i], s, parsed), i) for i, s in best.items() if s >= MIN_SCORE]
        ranked.sort(key=lambda si: (-si[0], KIND_RANK.get(self.entries[si[1]].kind, 9), self.entries[si[1]].name))
        return [self._candidate(self.entries[i], s, parsed) for s, i in ranked[: max(0, limit)]]

    @staticmethod
    def _candidate(entry: Entry, score: float, parsed: ParsedAddress) -> Candidate:
        """The entry as a candidate for the parsed address: a house on a road, or the place itself."""
        if entry.kind == "road" and entry.numbers is not None and parsed.number is not None:
            lon, lat = house_point(entry.coords, entry.numbers, parsed.number)
            sub = f"-{parsed.sub_number}" if parsed.sub_number else ""
            label, label_en = (
                f"{entry.name}{parsed.number}{sub}号",
                f"{parsed.number}{sub} {entry.name_en or entry.name}",
            )
            return Candidate(label, label_en, entry.kind, lon, lat, _rounded(score), parsed.number, entry.code)
        if entry.kind == "road":
            lon, lat = LineString(entry.coords).interpolate(0.5, normalized=True).coords[0]
        else:
            lon, lat = entry.coords[0]
        name_en = entry.name_en or entry.name
        return Candidate(entry.name, name_en, entry.kind, lon, lat, _rounded(score), None, entry.code)


def _adjusted(entry: Entry, score: float, parsed: ParsedAddress) -> float:
    """The ranking score: a road holding the house number up, one that does not down; a road without a number
    is only roughly placed; with a house number, places that are not roads down."""
    number = parsed.number
    if entry.kind != "road":
        return score - (5.0 if number is not None else 0.0)
    if number is None:
        return score - 2.0
    low, high = sorted(entry.numbers or (0, 0))
    return score + (3.0 if low <= number <= high else -10.0)


def _rounded(score: float) -> float:
    return round(min(100.0, max(0.0, score)), 1)


def areas_from_grids(grids: Iterable[Grid]) -> list[Entry]:
    """Communities and streets of the grids as point entries (their representative points), so "XX社区" matches."""
    out = []
    for grid in grids:
        if grid.level not in (Level.COMMUNITY, Level.STREET):
            continue
        point = grid.geometry.representative_point()
        name_en = str(grid.properties.get("name_en") or "")
        out.append(Entry(str(grid.level), grid.name, name_en, (), ((point.x, point.y),), code=grid.code))
    return out


# ---------------------------------------------------------------- the address file


class AddressImportError(ValueError):
    """An address GeoJSON failed validation; .problems names each feature (by index) and field."""

    def __init__(self, problems: list[FeatureProblem]):
        self.problems = list(problems)
        lines = [str(p) for p in self.problems[:20]]
        super().__init__(f"{len(self.problems)} problem(s) in address GeoJSON:\n" + "\n".join(lines))


def _position(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        return None
    lon, lat = value[0], value[1]
    if isinstance(lon, bool) or isinstance(lat, bool) or not isinstance(lon, (int, float)):
        return None
    if not isinstance(lat, (int, float)) or not (math.isfinite(lon) and math.isfinite(lat)):
        return None
    return (float(lon), float(lat)) if -180 <= lon <= 180 and -90 <= lat <= 90 else None


def _parse_feature(index: int, feature: Any, problems: list[FeatureProblem]) -> Entry | None:
    def bad(reason: str) -> None:
        problems.append(FeatureProblem(index, None, reason))

    if not isinstance(feature, Mapping) or not isinstance(feature.get("properties"), Mapping):
        bad("field 'properties': missing or not an object")
        return None
    props, geometry = feature["properties"], feature.get("geometry")
    kind, name = props.get("kind"), props.get("name")
    start = len(problems)
    if kind not in KINDS:
        bad(f"field 'kind': {kind!r} is not one of {', '.join(KINDS)}")
    if not isinstance(name, str) or not name.strip():
        bad("field 'name': missing or empty")
    aliases = props.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        bad("field 'aliases': must be a list of strings")
    name_en = props.get("name_en") or ""
    if not isinstance(name_en, str):
        bad("field 'name_en': must be a string")
    want = "LineString" if kind == "road" else "Point"
    gtype = geometry.get("type") if isinstance(geometry, Mapping) else None
    raw = geometry.get("coordinates") if isinstance(geometry, Mapping) else None
    coords: list[tuple[float, float] | None] = []
    if kind in KINDS and gtype != want:
        bad(f"field 'geometry': a {kind} needs a {want}, not {gtype!r}")
    elif kind == "road":
        coords = [_position(p) for p in raw] if isinstance(raw, list) else [None]
        if len(coords) < 2 or any(c is None for c in coords):
            bad("field 'geometry.coordinates': a LineString of at least two (lon, lat) positions")
    elif kind == "landmark":
        coords = [_position(raw)]
        if coords[0] is None:
            bad("field 'geometry.coordinates': not a (lon, lat) position")
    numbers = props.get("numbers")
    if kind == "road" and not (
        isinstance(numbers, list)
        and len(numbers) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in numbers)
    ):
        bad(f"field 'numbers': a road needs [first, last] positive house numbers, not {numbers!r}")
    if len(problems) > start:
        return None
    return Entry(
        kind=str(kind),
        name=str(name).strip(),
        name_en=str(name_en),
        aliases=tuple(a.strip() for a in aliases if a.strip()),
        coords=tuple(c for c in coords if c is not None),
        numbers=(numbers[0], numbers[1]) if kind == "road" else None,
        category=str(props["category"]) if kind == "landmark" and props.get("category") else None,
    )


def load_addresses(path: str | Path) -> list[Entry]:
    """Read and validate an address GeoJSON file (AddressImportError naming the problems)."""
    try:
        collection = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AddressImportError([FeatureProblem(-1, None, f"cannot read {path}: {exc}")]) from None
    return parse_addresses(collection)


def parse_addresses(collection: Any) -> list[Entry]:
    """Validate an address FeatureCollection; AddressImportError lists every problem (feature index and field)."""
    problems: list[FeatureProblem] = []
    features = collection.get("features") if isinstance(collection, Mapping) else None
    if not isinstance(collection, Mapping) or collection.get("type") != "FeatureCollection":
        problems.append(FeatureProblem(-1, None, "not a GeoJSON FeatureCollection"))
    elif not isinstance(features, list) or not features:
        problems.append(FeatureProblem(-1, None, "field 'features': missing or empty"))
    listed = features if isinstance(features, list) else []
    entries = [e for i, f in enumerate(listed) if (e := _parse_feature(i, f, problems)) is not None]
    if problems:
        raise AddressImportError(problems)
    return entries
