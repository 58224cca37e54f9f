"""Commands: what a caller asks the engine to do, validated at the edge (pydantic) before any handler runs."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

Text = Annotated[str, Field(min_length=1, max_length=4000)]
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=64)]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9\- ]{5,20}$")]


class Command(BaseModel):
    """Base of every command: unknown fields are an error, strings are stripped, numbers are finite."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True, allow_inf_nan=False)


def check_coordinates(lon: float | None, lat: float | None) -> None:
    if (lon is None) != (lat is None):
        raise ValueError("lon and lat must be given together")
    if lon is None or lat is None:  # both absent (the line above refused one without the other)
        return
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError("lon/lat must be finite numbers")
    if not (-180 <= lon <= 180):
        raise ValueError(f"lon {lon} is outside -180..180")
    if not (-90 <= lat <= 90):
        raise ValueError(f"lat {lat} is outside -90..90 (are lon and lat swapped?)")


class ActionRequest(Command):
    """Parameters of a lifecycle action; which ones are required depends on the action."""

    note: Annotated[str, Field(max_length=2000)] | None = None
    public_note: Annotated[str, Field(max_length=500)] | None = Field(
        default=None,
        description="a note written for the public (Open311 status_notes), kept on the timeline row's data; "
        "never the internal note",
    )
    reason: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    department: Code | None = Field(default=None, description="dispatch: the department to send it to")
    assignee: Name | None = Field(default=None, description="dispatch/transfer: the officer or handler")
    result: Annotated[str, Field(min_length=1, max_length=4000)] | None = Field(
        default=None, description="handle: what was done"
    )
    until: AwareDatetime | None = Field(default=None, description="extend: the new stage deadline")
    category_code: Code | None = Field(default=None, description="file: corrected category")
    lon: float | None = Field(default=None, description="file: corrected longitude")
    lat: float | None = Field(default=None, description="file: corrected latitude")
    parent_id: Annotated[str, Field(min_length=1, max_length=36)] | None = Field(
        default=None, description="merge: the open case this duplicate report is folded into"
    )
    reason_code: Code | None = Field(default=None, description="return: the reason code (data/handling.yaml)")
    media_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=36)]], Field(max_length=20)] = Field(
        default_factory=list, description="return/handle/callback: files of this case that back the step"
    )
    partners: Annotated[list[Code], Field(max_length=10)] = Field(
        default_factory=list, description="dispatch: partner departments of a joint case (会办/协办)"
    )
    verifier: Name | None = Field(default=None, description="assign_verifier/handle: the grid worker who verifies")
    reached: bool | None = Field(default=None, description="callback: was the caller reached")
    satisfied: bool | None = Field(default=None, description="callback: is the caller satisfied (when reached)")
    request_id: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="suspend/extend/refuse: the pending request decided (default: the open one)"
    )
    expected_version: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="reject the action if the incident changed since this version"
    )

    @model_validator(mode="after")
    def _coordinates(self) -> ActionRequest:
        check_coordinates(self.lon, self.lat)
        return self
