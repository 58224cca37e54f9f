"""The engine's house rules: no import cycle between any two modules, small rooms, small modules."""

from __future__ import annotations

import graphlib
from pathlib import Path

import grimp
import pytest

from dispatcher.settings import REPO_ROOT

MAX_MODULE_LINES = 400
MAX_ROOM_MODULES = 12
CODE_DIRS = ("dashboard", "dispatcher", "geo", "workers")


def test_no_import_cycle_between_modules_of_the_engine():
    """Every import inside dispatcher/ and geo/, function-local and TYPE_CHECKING ones included, forms a DAG."""
    graph = grimp.build_graph("dispatcher", "geo", cache_dir=None)
    order = graphlib.TopologicalSorter({m: graph.find_modules_directly_imported_by(m) for m in graph.modules})
    try:
        order.prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def _modules(root: Path):
    for path in sorted(root.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


@pytest.mark.parametrize("top", CODE_DIRS)
def test_no_module_over_the_size_limit(top):
    too_long = {
        str(p.relative_to(REPO_ROOT)): n
        for p in _modules(REPO_ROOT / top)
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines: {too_long}"


def test_every_room_of_the_engine_is_small_and_says_what_it_owns():
    rooms = [p for p in (REPO_ROOT / "dispatcher").iterdir() if (p / "__init__.py").exists()]
    assert len(rooms) >= 5
    for room in rooms:
        modules = [p for p in room.glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= MAX_ROOM_MODULES, f"{room.name} holds {len(modules)} modules"
        doc = (room / "__init__.py").read_text(encoding="utf-8")
        assert doc.startswith('"""') and "May import" in doc, f"{room.name}/__init__.py must say what it may import"
