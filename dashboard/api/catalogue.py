"""Catalogue endpoints: categories (部件/事件 classes with time limits) and departments."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import Enum

from flask import jsonify
from pydantic import BaseModel, ConfigDict
from spectree import Response

from dashboard.api import api, spec
from dashboard.runtime import current_runtime

TAG = "catalogue"


class ListOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    items: list[dict]


def _plain(value):
    """Dataclasses, enums and limits as JSON-ready values."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@api.get("/categories")
@spec.validate(resp=Response(HTTP_200=ListOut), tags=[TAG])
def categories():
    """Every small class with its default department, urgency and stage time limits."""
    catalogue = current_runtime().city.catalogue
    return jsonify(items=[_plain(c) for c in catalogue.categories.values()])


@api.get("/departments")
@spec.validate(resp=Response(HTTP_200=ListOut), tags=[TAG])
def departments():
    """Every department that incidents can be dispatched to."""
    catalogue = current_runtime().city.catalogue
    return jsonify(items=[_plain(d) for d in catalogue.departments.values()])
