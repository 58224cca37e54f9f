"""Case numbers (案件编号): the short number people read, say and search — `YYYY-MMDD-NNNN`, the UUID stays internal.

Numbered per district and local day (the working calendar's time zone): the first case of 1 December 2026
in a district is 2026-1201-0001. The counter row (district, day) is taken with a row lock inside the creating
transaction (the upsert … RETURNING holds it on PostgreSQL; SQLite's single writer serialises), so numbers are unique and
gap-free per day even under concurrent creates, and a rolled-back create gives its number back.

A case outside every grid counts in the city's district when the city has exactly one; otherwise in the
`NO_DISTRICT` bucket. In a city of several districts the number starts with the last two digits of the
district code (unique inside one prefecture: 330106 → "06-2026-1201-0042"), so numbers stay unique city-wide.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from sqlalchemy import Date, Integer, String
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from dispatcher.cases.incident import Incident
from dispatcher.city.loader import City
from dispatcher.store.base import Base
from dispatcher.store.outbox import lock_outbox
from geo.grids import Level

NO_DISTRICT = "000000"
PATTERN = r"^([0-9]{2}-)?[0-9]{4}-[0-9]{4}-[0-9]{4,}$"


class CaseNumberCounter(Base):
    """The last case number given in one district on one local day."""

    __tablename__ = "case_number_counter"

    district: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, nullable=False)


def local_day(now: datetime, tz: tzinfo) -> date:
    """The city's calendar day at `now` (timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError(f"now {now.isoformat()} must be timezone-aware")
    return now.astimezone(tz).date()


def format_number(day: date, seq: int, district_tag: str = "") -> str:
    """2026-12-01, 42 → "2026-1201-0042"; with a district tag "06" → "06-2026-1201-0042"."""
    number = f"{day:%Y}-{day:%m%d}-{seq:04d}"
    return f"{district_tag}-{number}" if district_tag else number


def counting_district(city: City, incident: Incident) -> str:
    """The district a case is counted in: its own, else the city's only district, else NO_DISTRICT."""
    if incident.grid_district:
        return incident.grid_district
    districts = city.grids.by_level(Level.DISTRICT)
    return districts[0].code if len(districts) == 1 else NO_DISTRICT


def district_tag(city: City, district: str) -> str:
    """ "" in a one-district city; else the code's last two digits (NO_DISTRICT → "00")."""
    return "" if len(city.grids.by_level(Level.DISTRICT)) <= 1 else district[-2:]


def next_seq(session: Session, district: str, day: date) -> int:
    """Take the next number of (district, day) in the caller's transaction, creating the counter if absent.

    One upsert (INSERT … ON CONFLICT DO UPDATE SET last = last + 1 RETURNING last) creates the counter at 1 or
    increments it, and holds the row lock until the transaction ends, so concurrent creates queue on it and
    each reads the value the previous one committed.
    """
    # The outbox lock first and the audit lock after it (both re-entrant; UnitOfWork.commit and audit.append take
    # them anyway, this transaction asks once): every transaction then takes outbox → audit → counter in that
    # order, and a create cannot deadlock with one that appended an audit record (outbox + audit) before creating.
    lock_outbox(session, with_audit=True)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    bump = (
        insert(CaseNumberCounter)
        .values(district=district, day=day, last=1)
        .on_conflict_do_update(
            index_elements=[CaseNumberCounter.district, CaseNumberCounter.day],
            set_={"last": CaseNumberCounter.last + 1},
        )
        .returning(CaseNumberCounter.last)
    )
    return int(session.execute(bump).scalar_one())


def assign(session: Session, city: City, incident: Incident, now: datetime) -> str:
    """Give a new incident its case number (once; placed first, so its district is known)."""
    if incident.case_number:
        return incident.case_number
    district = counting_district(city, incident)
    day = local_day(now, city.calendar.tz)
    incident.case_number = format_number(day, next_seq(session, district, day), district_tag(city, district))
    return incident.case_number
