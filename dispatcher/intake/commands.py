"""The report command: what a caller asks the engine to receive, validated at the edge (pydantic)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from dispatcher.cases.commands import Code, Command, Name, Phone, Text, check_coordinates
from dispatcher.cases.incident import CallNature, Channel


class CreateIncident(Command):
    """Report a problem (受理): where, what, who reported it."""

    channel: Channel = Channel.API
    category_code: Code | None = None
    description: Text
    lon: float | None = Field(default=None, description="WGS-84 longitude (EPSG:4326)")
    lat: float | None = Field(default=None, description="WGS-84 latitude (EPSG:4326)")
    address: Annotated[str, Field(max_length=255)] | None = None
    reporter_name: Name | None = None
    reporter_phone: Phone | None = None
    call_nature: CallNature | None = Field(default=None, description="hotline: what the call was")
    callback_name: Name | None = Field(default=None, description="who to call back, if not the caller")
    callback_phone: Phone | None = Field(default=None, description="the number to call back, if not the caller's")
    urgency: Annotated[int, Field(ge=1, le=3)] | None = None
    external_id: Annotated[str, Field(max_length=64)] | None = None

    @model_validator(mode="after")
    def _located_somehow(self) -> CreateIncident:
        check_coordinates(self.lon, self.lat)
        if self.lon is None and not self.address:
            raise ValueError("give lon+lat or an address")
        return self
