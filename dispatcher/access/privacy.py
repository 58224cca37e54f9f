"""Personal information (PIPL) in views and logs: callers' names and phone numbers masked, kept out of logs.

- Masking: `mask_phone`, `mask_name`, and `present_reporter` for snapshots shown to a role.
- Logs: `redact` replaces mainland mobile numbers with their mask; `RedactPhones` is a logging
  filter that does it to every record; `install_log_redaction()` attaches it.
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
# A mainland mobile number inside free text: 11 digits (optionally written 3-4-4 with spaces or hyphens,
# optionally after +86) not part of a longer run of digits.
MOBILE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
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


# --- logs --------------------------------------------------------------------------------------------


def _mask_match(match: re.Match) -> str:
    return f"{match.group(1)}{MASK}{match.group(3)}"


def redact(text: str) -> str:
    """`text` with every mainland mobile number replaced by its mask ("138****5678")."""
    if not isinstance(text, str) or not text:
        return text
    return MOBILE_IN_TEXT.sub(_mask_match, text)


class RedactPhones(logging.Filter):
    """Masks mobile numbers in a record's message, its arguments, and its exception text; never drops a record."""

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
