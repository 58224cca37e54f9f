"""Stock phrases (受理惯用语) of the hotline console: read from the data directory of the settings, offered per
category and inserted into the description with one click or Alt+1..9 (dashboard/assets/hotline.js)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from dash import html

from dashboard.runtime import current_runtime
from dispatcher.settings import Settings

PHRASES_NAME = "hotline_phrases.yaml"
PHRASE_KEYS = 9
JOINED = ("，", "。", "：", " ", "\n")  # a description ending in one of these takes a phrase without a space


def phrases_file(settings: Settings) -> Path:
    """The stock phrases file of these settings (data/hotline_phrases.yaml by default)."""
    return settings.data_dir / PHRASES_NAME


@lru_cache(maxsize=4)
def _table(path: Path) -> dict[str, list[str]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError:
        return {}
    return {str(k): [str(p) for p in v or []] for k, v in data.items()}


def phrases_for(category_code: str | None) -> list[str]:
    """Up to nine phrases: the category's own, then its big class's, then the defaults (no repeats)."""
    table = _table(phrases_file(current_runtime().settings))
    keys = ([category_code, category_code[:4]] if category_code else []) + ["default"]
    out: list[str] = []
    for key in keys:
        for phrase in table.get(key, []):
            if phrase not in out:
                out.append(phrase)
    return out[:PHRASE_KEYS]


def phrase_buttons(phrases: list[str]) -> list:
    """One button per phrase, Alt+n on the n-th."""
    return [
        html.Button(
            [html.Kbd(f"Alt+{n}"), html.Span(p)],
            id={"type": "hl-phrase", "index": n},
            n_clicks=0,
            className="gc-hl-phrase",
            title=p,
            **{"data-key": str(n)},
        )
        for n, p in enumerate(phrases, start=1)
    ]


def with_phrase(text: str | None, phrases: list[str], n) -> str | None:
    """The description with the n-th phrase (1-based) appended; None when there is no such phrase."""
    if not isinstance(n, int) or not 1 <= n <= len(phrases):
        return None
    text = text or ""
    return text + ("" if not text or text.endswith(JOINED) else " ") + phrases[n - 1]
