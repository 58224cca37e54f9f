"""The ledger (台账): the entry written at archiving from a case driven through its lifecycle, and its export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from dispatcher.cases.actions import perform_action
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import Action
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import Conflict
from dispatcher.handling.ledger import LedgerEntry, write_entry
from dispatcher.handling.ledger_export import COLUMNS, SHEET, headers, rows, to_csv, to_xlsx
from dispatcher.intake.commands import CreateIncident
from dispatcher.intake.reports import create_incident

T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
WALK = [
    (Action.FILE, {}),
    (Action.DISPATCH, {}),
    (Action.CLAIM, {}),
    (Action.HANDLE, {"result": "已清理"}),
    (Action.REJECT, {"reason": "未清理干净"}),
    (Action.CLAIM, {}),
    (Action.HANDLE, {"result": '=HYPERLINK("http://x")'}),  # a formula: must never run in a spreadsheet
    (Action.VERIFY, {}),
    (Action.CLOSE, {}),
]


def inside(grid) -> tuple[float, float]:
    point = grid.geometry.representative_point()
    return point.x, point.y


def closed_incident(sessions, city, *, hours: int = 30, callback: dict | None = None) -> SimpleNamespace:
    """An incident reported at T0 in a demo unit grid and driven to `closed` `hours` later, each step an hour apart."""
    lon, lat = inside(city.grids.by_level("unit")[10])
    cmd = CreateIncident(description="人行道上有暴露垃圾", category_code="020101", lon=lon, lat=lat, address="-1 号")
    with UnitOfWork(sessions) as uow:
        incident = create_incident(uow, city, cmd, actor="hotline-1", now=T0)
        uow.commit(T0)
        incident_id = incident.id
    for step, (action, body) in enumerate(WALK, start=1):
        now = T0 + timedelta(hours=hours if action is Action.CLOSE else step)
        with UnitOfWork(sessions) as uow:
            perform_action(uow, city, incident_id, action, ActionRequest(**body), actor=f"op-{step}", now=now)
            uow.commit(now)
    if callback is not None:
        with UnitOfWork(sessions) as uow:
            incident = uow.session.get(Incident, incident_id)
            now = T0 + timedelta(hours=hours, minutes=30)
            incident.record(action="callback", actor="hotline-2", now=now, to=incident.state, data=callback)
            uow.commit(now)
    with UnitOfWork(sessions) as uow:
        return columns(uow.session.get(Incident, incident_id))


def columns(row) -> SimpleNamespace:
    """A row's column values, readable after its session closed."""
    return SimpleNamespace(**{c.key: getattr(row, c.key) for c in row.__table__.columns})


def archive(sessions, incident_id: str, now: datetime, archiver: str = "leader-1") -> SimpleNamespace:
    with UnitOfWork(sessions) as uow:
        incident = uow.session.get(Incident, incident_id)
        entry = write_entry(uow.session, incident, archiver=archiver, now=now)
        uow.commit(now)
        return columns(entry)


def test_the_entry_copies_the_case_its_process_and_its_result(sessions, city):
    incident = closed_incident(sessions, city, callback={"reached": True, "satisfied": True})
    now = T0 + timedelta(hours=40)
    entry = archive(sessions, incident.id, now)
    assert entry.incident_id == incident.id and entry.archiver == "leader-1" and entry.archived_at == now
    assert (entry.category_code, entry.department_code, entry.level) == (
        incident.category_code,
        incident.department_code,
        incident.level,
    )
    assert entry.department_code and entry.grid_unit == incident.grid_unit and entry.grid_street
    assert entry.channel == "api" and entry.address == "-1 号"
    assert entry.created_at == T0 and entry.closed_at == T0 + timedelta(hours=30)
    assert entry.duration_hours == 30.0
    assert entry.result == '=HYPERLINK("http://x")'  # the last handling's result
    assert entry.rework_count == 1 and entry.return_count == 0 and entry.escalation_count == 0
    assert entry.satisfaction == "satisfied"
    actions = [step["action"] for step in entry.process]
    assert actions == ["report", *[str(a) for a, _ in WALK], "callback"]
    assert [step["seq"] for step in entry.process] == list(range(1, len(actions) + 1))
    first = entry.process[0]
    assert first == {
        "seq": 1,
        "at": T0.isoformat(),
        "actor": "hotline-1",
        "action": "report",
        "from": None,
        "to": "reported",
    }


@pytest.mark.parametrize(
    "callback, expected",
    [(None, None), ({"reached": False}, "not_reached"), ({"reached": True, "satisfied": False}, "unsatisfied")],
)
def test_satisfaction_comes_from_the_last_callback(sessions, city, callback, expected):
    incident = closed_incident(sessions, city, callback=callback)
    assert archive(sessions, incident.id, T0 + timedelta(days=2)).satisfaction == expected


def test_a_second_entry_for_the_same_incident_is_a_conflict_naming_it(sessions, city):
    incident = closed_incident(sessions, city)
    archive(sessions, incident.id, T0 + timedelta(days=2))
    with pytest.raises(Conflict) as err:
        archive(sessions, incident.id, T0 + timedelta(days=3))
    assert incident.id in str(err.value)
    with sessions() as session:
        assert session.query(LedgerEntry).count() == 1


def test_rows_select_the_period_and_the_department(sessions, city):
    first, second = closed_incident(sessions, city), closed_incident(sessions, city)
    archive(sessions, first.id, T0 + timedelta(days=2))
    archive(sessions, second.id, T0 + timedelta(days=5))
    with sessions() as session:
        start, end = T0 + timedelta(days=2), T0 + timedelta(days=5)
        assert [e.incident_id for e in rows(session, start=start, end=end)] == [first.id]  # end excluded
        both = rows(session, start=T0, end=T0 + timedelta(days=6))
        assert [e.incident_id for e in both] == [first.id, second.id]
        assert rows(session, start=T0, end=T0 + timedelta(days=6), department="NOPE") == []
        department = first.department_code
        assert len(rows(session, start=T0, end=T0 + timedelta(days=6), department=department)) == 2
        assert len(rows(session, start=T0, end=T0 + timedelta(days=6), region=first.grid_street)) == 2
        assert rows(session, start=T0, end=T0 + timedelta(days=6), region="999999") == []


def test_csv_has_a_bom_a_chinese_header_and_defused_formulas(sessions, city):
    incident = closed_incident(sessions, city)
    archive(sessions, incident.id, T0 + timedelta(days=2))
    with sessions() as session:
        data = to_csv(rows(session, start=T0, end=T0 + timedelta(days=3)))
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == headers("zh") and table[0][0] == "案件编号" and table[0][-1] == "处置过程"
    assert len(table) == 2 and len(table[1]) == len(COLUMNS)
    row = dict(zip(table[0], table[1]))
    assert row["案件编号"] == incident.id
    assert row["处置结果"] == '\'=HYPERLINK("http://x")'  # a quote in front: text, never a formula
    assert row["地址"] == "'-1 号"
    assert row["受理时间"] == "2026-12-02 10:00" and row["办理时长(小时)"] == "30.0"
    assert row["处置过程"].startswith("1. 2026-12-02 10:00 hotline-1 report")
    assert to_csv([], lang="en").decode("utf-8-sig").splitlines()[0].startswith("Case,Category")


def test_xlsx_opens_with_one_bold_header_sheet_and_no_formula(sessions, city):
    incident = closed_incident(sessions, city)
    archive(sessions, incident.id, T0 + timedelta(days=2))
    with sessions() as session:
        data = to_xlsx(rows(session, start=T0, end=T0 + timedelta(days=3)))
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == [SHEET]
    sheet = book[SHEET]
    header = [c.value for c in sheet[1]]
    assert header == headers("zh") and all(c.font.bold for c in sheet[1])
    values = dict(zip(header, [c for c in sheet[2]]))
    assert values["案件编号"].value == incident.id
    result = values["处置结果"]
    assert result.data_type == "s" and result.value == '\'=HYPERLINK("http://x")'
    assert values["地址"].value == "'-1 号"
    assert values["受理时间"].value == datetime(2026, 12, 2, 10, 0)
    assert values["办理时长(小时)"].value == 30.0 and values["退单次数"].value == 0
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    assert sheet.column_dimensions["A"].width == 38 and sheet.max_row == 2
