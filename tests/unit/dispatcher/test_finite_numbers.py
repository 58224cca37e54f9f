"""Commands and machine events hold finite numbers only, however they are built (issue 9, item 12).

The web edge already refuses the NaN/Infinity literals in JSON (dashboard/strict_json.py); the models refuse
the Python values too, for every float field of every command, present and future.
"""

from __future__ import annotations

import math

import pytest
from pydantic import BaseModel, ValidationError

from dispatcher.cases.commands import Command
from dispatcher.intake import commands as intake_commands  # noqa: F401 (registers CreateIncident as a Command)
from dispatcher.intake.machine_events import MachineBatch, MachineEvent

EVENT = {
    "source_id": "CAM-1",
    "source_kind": "camera",
    "event_type": "garbage_overflow",
    "confidence": 0.9,
    "lon": 120.17,
    "lat": 30.26,
    "detected_at": "2026-12-02T09:30:00+08:00",
}


def subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]


def float_fields(model: type[BaseModel]) -> list[str]:
    return [name for name, field in model.model_fields.items() if "float" in repr(field.annotation)]


def test_every_command_refuses_non_finite_numbers_in_its_model_config():
    commands = subclasses(Command)
    assert len(commands) >= 2
    for model in (Command, *commands):
        assert model.model_config.get("allow_inf_nan") is False, model.__name__
    assert MachineEvent.model_config.get("allow_inf_nan") is False
    assert MachineBatch.model_config.get("allow_inf_nan") is False


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_every_float_field_of_every_command_refuses_nan_and_infinity(value):
    checked = 0
    for model in subclasses(Command):
        for name in float_fields(model):
            with pytest.raises(ValidationError) as exc:
                model.model_validate({name: value})
            problems = [e for e in exc.value.errors() if e["loc"] == (name,)]
            assert problems and "finite" in problems[0]["msg"], (model.__name__, name, exc.value.errors())
            checked += 1
    assert checked >= 4  # lon and lat of CreateIncident and ActionRequest at least


@pytest.mark.parametrize("where", ["confidence", "lon", "attributes", "extra"])
def test_a_machine_event_refuses_nan_anywhere(where):
    event = dict(EVENT)
    if where == "attributes":
        event["attributes"] = {"temperature": math.nan}
    elif where == "extra":
        event["battery"] = math.inf  # unknown keys are kept as attributes: they must be JSON too
    else:
        event[where] = math.nan
    with pytest.raises(ValidationError):
        MachineEvent.model_validate(event)
    assert MachineEvent.model_validate(EVENT).lon == 120.17
