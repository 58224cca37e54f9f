"""Strict JSON for every body the server reads: no NaN or Infinity, no absurd nesting.

Python's `json` accepts the literals NaN, Infinity and -Infinity, which are not JSON, and reads 1e999 as
Infinity: once stored they
come back out as invalid JSON (the officers list, the position pushes). And a body of 100,000 nested
arrays exhausts the recursion limit (a 500). `StrictJSONProvider` is the Flask app's JSON provider, so
`request.get_json()` (spectree, Dash callbacks, every view) refuses both with a 400; `strict_loads` is
the same parser for JSON read by hand (the API's body check, the `report` part of a multipart report).
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 100  # arrays and objects inside each other; a GeoJSON MultiPolygon feature collection needs 8


class UnsafeJSON(ValueError):
    """A body that parses as Python's JSON but must not be accepted (non-finite number, absurd nesting)."""


def strict_loads(text: str | bytes | bytearray, **kwargs: Any) -> Any:
    """`json.loads`, refusing NaN/Infinity/-Infinity and nesting deeper than MAX_DEPTH (UnsafeJSON, a ValueError)."""
    kwargs.setdefault("parse_constant", _refuse_constant)
    kwargs.setdefault("parse_float", _finite)
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise UnsafeJSON(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if _deeper_than(value, MAX_DEPTH):
        raise UnsafeJSON(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


def _refuse_constant(name: str) -> Any:
    raise UnsafeJSON(f"{name} is not a JSON number (only finite numbers are accepted)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 overflows to Infinity
        raise UnsafeJSON(f"{text[:40]} is too large for a number")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays/objects nest more than `limit` levels (level by level: no recursion)."""
    level = [value]
    for _ in range(limit):
        level = [
            child
            for item in level
            if isinstance(item, dict | list)
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with `strict_loads`: request.get_json() answers 400 for NaN, Infinity, deep nesting."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return strict_loads(s, **kwargs)
