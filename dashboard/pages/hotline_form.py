"""The call form of the hotline console: who takes calls, what a call can be, the form's state as one typed value
and the CreateIncident it makes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dashboard.pages.intake_widgets import stored_point
from dispatcher.access.accounts import Principal
from dispatcher.intake import callers
from dispatcher.intake.commands import CreateIncident

ROLES = frozenset({"hotline", "dispatcher", "shift_leader"})
NATURES = ("consultation", "callback", "no_callback", "harassment")
NO_CASE_NATURES = {"consultation", "harassment"}  # without a category these are answered, not made a case
PHONE_DIGITS = 11  # a mainland mobile number: the lookup runs by itself at the 11th digit
MIN_LOOKUP_DIGITS = 5  # fewer digits are no number to look up (dispatcher.intake.callers.history refuses them)
URGENCIES = ("1", "2", "3")  # "0": by category

# The form's fields and the controls holding them (the save callback reads them all as its state).
FIELDS: dict[str, tuple[str, str]] = {
    "phone": ("hl-phone", "value"),
    "caller_name": ("hl-caller-name", "value"),
    "nature": ("hl-nature", "value"),
    "cb_name": ("hl-cb-name", "value"),
    "cb_phone": ("hl-cb-phone", "value"),
    "category": ("hl-category", "value"),
    "address": ("hl-address", "value"),
    "loc": ("hl-loc", "data"),
    "urgency": ("hl-urgency", "value"),
    "description": ("hl-desc", "value"),
    "parent": ("hl-parent", "data"),
}


def allowed(principal: Principal | None) -> bool:
    """Whether the principal's role takes calls at the console."""
    return principal is not None and str(principal.role) in ROLES


def normalise_phone(text: str | None) -> str:
    """The number as callers are looked up by (dispatcher.intake.callers.normalise_phone); "" if none."""
    return callers.normalise_phone(text if isinstance(text, str) else None) or ""


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class CallForm:
    """What the call-taker has entered, as the browser sent it (nothing here is trusted yet)."""

    phone: Any = None
    caller_name: Any = None
    nature: Any = None
    cb_name: Any = None
    cb_phone: Any = None
    category: Any = None
    address: Any = None
    loc: Any = None
    urgency: Any = None
    description: Any = None
    parent: Any = None

    @property
    def category_code(self) -> str | None:
        return self.category if isinstance(self.category, str) and self.category else None

    @property
    def point(self) -> tuple[float, float] | None:
        return stored_point(self.loc)

    @property
    def merge_into(self) -> str | None:
        """The suggested case the call-taker chose to save this call under, if any."""
        return self.parent if isinstance(self.parent, str) and self.parent else None

    @property
    def answered_only(self) -> bool:
        """A consultation or harassment call without a category: answered, no case made."""
        return self.category_code is None and self.nature in NO_CASE_NATURES

    @property
    def missing(self) -> str | None:
        """The message key of what a case still needs (a description; an address or a point), if anything."""
        if not _text(self.description):
            return "hl_need_desc"
        if self.point is None and not _text(self.address):
            return "hl_need_place"
        return None


def build_command(form: CallForm) -> CreateIncident:
    """The CreateIncident of the form, channel hotline (pydantic validates every field)."""
    fields = {
        "channel": "hotline",
        "category_code": form.category_code,
        "description": _text(form.description),
        "address": _text(form.address) or None,
        "reporter_name": _text(form.caller_name) or None,
        "reporter_phone": normalise_phone(form.phone) or None,
        "urgency": int(form.urgency) if str(form.urgency or "") in URGENCIES else None,
        "call_nature": form.nature if form.nature in NATURES else None,
        "callback_name": _text(form.cb_name) or None,
        "callback_phone": normalise_phone(form.cb_phone) or None,
    }
    if form.point is not None:
        fields["lon"], fields["lat"] = form.point
    return CreateIncident(**{k: v for k, v in fields.items() if v is not None})
