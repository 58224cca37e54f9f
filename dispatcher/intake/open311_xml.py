"""The spec's XML for the Open311 answers (dispatcher/intake/open311.py builds them as dicts): <services><service>…,
<service_requests><request>…, <errors><error>…; characters XML 1.0 cannot carry (control characters other than tab,
newline and CR, U+FFFE/U+FFFF, lone surrogates) are dropped, so every answer parses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import xmltodict

# Characters XML 1.0 cannot carry, not even as character references.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry (so every answer parses)."""
    return _NOT_XML.sub("", text)


def _xml_value(value: Any) -> Any:
    """Lists stay lists (repeated elements), empty lists become an empty element, bools true/false, text
    loses what XML cannot carry."""
    if isinstance(value, Mapping):
        return {k: _xml_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_xml_value(v) for v in value] if value else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return xml_text(value)
    return value


# The element name of each list's items, per the spec's examples.
LIST_ITEMS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}


def _nest(value: Any) -> Any:
    """Wrap nested lists in their item element: {"formats": [..]} → <formats><format>…</format></formats>."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if isinstance(item, list) and key in LIST_ITEMS:
                out[key] = {LIST_ITEMS[key]: [_nest(i) for i in item]} if item else None
            else:
                out[key] = _nest(item)
        return out
    if isinstance(value, list):
        return [_nest(v) for v in value]
    return value


def render_xml(root: str, payload: Any, item: str | None = None) -> str:
    """The spec's XML for `payload`: a list under <root><item>…</item></root>, or one object as <root>…."""
    body = {item: [_nest(p) for p in payload]} if item else _nest(payload)
    if item and not payload:
        body = None
    return xmltodict.unparse({root: _xml_value(body)}, encoding="UTF-8", full_document=True)


# Root and item element per resource.
XML_SHAPES = {
    "services": ("services", "service"),
    "service_definition": ("service_definition", None),
    "requests": ("service_requests", "request"),
    "discovery": ("discovery", None),
    "errors": ("errors", "error"),
}


def to_xml(kind: str, payload: Any) -> str:
    root, item = XML_SHAPES[kind]
    return render_xml(root, payload, item)
