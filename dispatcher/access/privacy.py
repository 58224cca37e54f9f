"""Personal information (PIPL) in views, public answers and logs: names masked, phone and ID numbers kept out.

- Masking: `mask_phone`, `mask_name`, and `present_reporter` for snapshots shown to a role.
- Public text and logs: `redact` is the one function that masks phone and ID numbers written in free text
  (mobiles, landlines with an area code, 18-digit 居民身份证 numbers, in any common form); Open311 answers and
  `RedactPhones`, the logging filter `install_log_redaction()` attaches, both use it.
(Encryption at rest is `dispatcher.store.cipher`.)
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from dispatcher.access.roles import Role, may_see_phones

_lock = threading.Lock()
_filter: RedactPhones | None = None


# --- masking ---------------------------------------------------------------------------------------

MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
MASK = "****"


def mask_phone(phone: str | None) -> str | None:
    """ "13812345678" → "138****5678"; another number keeps only its last 4 digits ("*******4567")."""
    if phone is None:
        return None
    digits = re.sub(r"\D", "", phone)
    mobile = MOBILE.match(digits)
    if mobile:
        number = mobile.group(1)
        return f"{number[:3]}{MASK}{number[-4:]}"
    if len(digits) <= 4:
        return "*" * max(len(digits), 4)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_name(name: str | None) -> str | None:
    """ "王小明" → "王**": the first character stays, every other one becomes "*"."""
    if name is None:
        return None
    name = name.strip()
    if len(name) <= 1:
        return "*" if name else name
    return name[0] + "*" * (len(name) - 1)


REPORTER_FIELDS = {
    "reporter_name": mask_name,
    "reporter_phone": mask_phone,
    "callback_name": mask_name,
    "callback_phone": mask_phone,
}


def present_reporter(
    snapshot: dict[str, Any], role: Role | None, *, on_unmask: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """The snapshot as `role` may see it: reporter name and phone masked unless the role may see
    callers' numbers (`may_see_phones`). No role (pushes, the outbox) sees masks. Returns a copy;
    keys that are absent stay absent. `on_unmask(snapshot)` is called when unmasked personal data is
    handed out (PIPL: log every unmasking), only if there was any to hand out."""
    if role is not None and may_see_phones(role):
        if on_unmask is not None and any(snapshot.get(k) for k in REPORTER_FIELDS):
            on_unmask(snapshot)
        return dict(snapshot)
    shown = dict(snapshot)
    for key, mask in REPORTER_FIELDS.items():
        if key in shown:
            shown[key] = mask(shown[key])
    return shown


# --- numbers in free text (public answers and logs) ------------------------------------------------------


def _digits(ascii_set: str) -> str:
    """A character class of these ASCII digits and their full-width forms (１３８…)."""
    return "[" + "".join(c + chr(ord(c) + 0xFEE0) for c in ascii_set) + "]"


# Between two digits of a number: up to three spaces, hyphens, slashes, underscores or brackets, half- or
# full-width, zero-width spaces included ("1 3 8 1 2 3 4 5 6 7 8", "(0571) 8765-4321", "１３８－１２３４…").
_GAP_CHARS = r" \t\u00a0\u2000-\u200d\u202f\u2060\u3000\ufeff\-/_·‐‑‒–—―－／＿()（）"
_GAP = rf"[{_GAP_CHARS}]{{0,3}}"
# Where a number is grouped (3-4-4 of a mobile, after an area code, in an ID number) a dot may join as well
# ("138.1234.5678"); elsewhere it may not, so decimals, IP addresses and timestamps are not read as numbers.
_SEP = rf"[{_GAP_CHARS}.．]{{0,3}}"
_D = r"\d"  # Unicode decimal digits: ASCII and full-width alike
_ZERO = _digits("0")


def _run(*parts: str, sep: str = _GAP) -> str:
    """Digit patterns joined by optional separators."""
    return sep.join(parts)


# Country code: +86, ＋86, 0086, (+86), or a bare 86 right before the number.
_CC = rf"[(（]?(?:[+＋]{_SEP}|{_run(_ZERO, _ZERO)}{_SEP})?{_run(_digits('8'), _digits('6'))}[)）]?{_SEP}"
_MOBILE = _SEP.join([_run(_digits("1"), _digits("3456789"), _D), _run(_D, _D, _D, _D), _run(_D, _D, _D, _D)])  # 3-4-4
_AREA = rf"(?:{_run(_digits('1'), _ZERO)}|{_run(_digits('2'), _D)}|{_run(_digits('3456789'), _D, _D)})"
_LOCAL = _run(_digits("123456789"), *[_D] * 5, sep=_SEP) + rf"(?:{_SEP}{_D}){{1,2}}"
_EXTENSION = rf"(?:(?:[-－]|{_GAP}(?:转|分机|[eE][xX][tT]\.?|[xX]){_GAP}){_D}{{1,6}})?"
_LANDLINE = (
    rf"(?:{_CC}[(（]?(?:{_ZERO}{_GAP}[)）]?{_SEP})?|[(（]?{_ZERO}{_GAP})"
    rf"(?P<area>{_AREA})[)）]?{_SEP}(?P<local>{_LOCAL}){_EXTENSION}"
)
_ID = _run(
    _digits("12345678"),
    *[_D] * 5,
    rf"(?:{_run(_digits('1'), _digits('89'))}|{_run(_digits('2'), _ZERO)})",  # born 18xx, 19xx or 20xx
    _D,
    _D,
    rf"(?:{_run(_ZERO, _digits('123456789'))}|{_run(_digits('1'), _digits('012'))})",  # month
    rf"(?:{_run(_ZERO, _digits('123456789'))}|{_run(_digits('12'), _D)}|{_run(_digits('3'), _digits('01'))})",
    _D,
    _D,
    _D,
    r"[\dXxＸｘ]",
    sep=_SEP,
)
# An identifier such as an incident id (a UUID) is left as it is, even where its digits look like a number.
_UUID = r"(?<![0-9A-Fa-f-])[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}(?![0-9A-Fa-f-])"
PERSONAL_NUMBER = re.compile(
    rf"(?P<uuid>{_UUID})"
    rf"|(?<!\d)(?:(?P<id>{_ID})|(?:{_CC})?(?P<mobile>{_MOBILE})|{_LANDLINE})(?!\d)"
)


def _plain(text: str) -> str:
    """The digits (and X) of a matched number, ASCII."""
    return "".join(str(int(c)) if c.isdecimal() else "X" for c in text if c.isdecimal() or c in "XxＸｘ")


def _mask_number(match: re.Match[str]) -> str:
    if match.group("uuid"):
        return match.group("uuid")
    if match.group("id"):
        number = _plain(match.group("id"))
        return f"{number[:3]}{'*' * 11}{number[-4:]}"
    if match.group("mobile"):
        number = _plain(match.group("mobile"))
        return f"{number[:3]}{MASK}{number[-4:]}"
    return f"0{_plain(match.group('area'))}-{MASK}{_plain(match.group('local'))[-4:]}"


def redact(text: str) -> str:
    """`text` with every phone or ID number masked: mainland mobiles ("138****5678", with or without +86, 0086
    or 86), landlines with an area code ("0571-****4321") and 18-digit 居民身份证 numbers ("330***********123X"),
    written with full-width digits, spaces, dots, slashes, hyphens, brackets or a mix of them. The one redaction
    of public text (Open311) and of logs."""
    if not isinstance(text, str) or not text:
        return text
    return PERSONAL_NUMBER.sub(_mask_number, text)


class RedactPhones(logging.Filter):
    """Masks phone and ID numbers (`redact`) in a record's message, arguments and traceback; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        redacted = redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None  # formatted once, here; the handler formats nothing
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


LOGGERS = ("werkzeug", "gridcommand", "dashboard", "dispatcher", "workers")


def install_log_redaction(extra_loggers: tuple[str, ...] = ()) -> RedactPhones:
    """Attach one `RedactPhones` to every handler of the root logger and to the named loggers (and
    their handlers). Safe to call more than once: nothing is attached twice. Handlers added to the
    root logger later need another call (or `handler.addFilter(...)`)."""
    with _lock:
        global _filter
        flt = _filter or RedactPhones()
        targets: list[logging.Filterer] = list(logging.getLogger().handlers)
        for name in (*LOGGERS, *extra_loggers):
            logger = logging.getLogger(name)
            targets.append(logger)
            targets.extend(logger.handlers)
        for target in targets:
            if not any(isinstance(f, RedactPhones) for f in target.filters):
                target.addFilter(flt)
        _filter = flt
        return flt
