"""The city the engine works on: its grids, category catalogue, working calendar and routing rules."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dispatcher.city.calendar import WorkingCalendar, load_calendar
from dispatcher.city.catalogue import Catalogue
from dispatcher.city.handling_rules import HandlingRules, load_handling_rules
from dispatcher.city.reading import load_catalogue
from dispatcher.city.routing import Router
from geo.grids import GridIndex


@dataclass
class City:
    """Everything routing, clocks and the loop after dispatch need, loaded once per process; `grids` is swapped on import."""

    catalogue: Catalogue
    calendar: WorkingCalendar
    router: Router
    grids: GridIndex
    rules: HandlingRules


def load_city(data_dir: Path, grids: GridIndex) -> City:
    """Load the catalogue, calendar and routing rules shipped in `data_dir` around a grid index."""
    catalogue = load_catalogue(data_dir)
    return City(
        catalogue=catalogue,
        calendar=load_calendar(data_dir / "calendar.yaml"),
        router=Router(catalogue),
        grids=grids,
        rules=load_handling_rules(data_dir / "handling.yaml", {level.code for level in catalogue.escalation}),
    )
