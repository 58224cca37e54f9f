"""Every table, imported in one place so metadata and migrations see them all."""

from dispatcher.access.accounts import Account, ApiToken
from dispatcher.access.audit import AuditRecord
from dispatcher.access.sessions import WebSession
from dispatcher.cases.incident import CasePartner, Incident, TimelineEntry
from dispatcher.evaluation.frozen import FrozenCounts
from dispatcher.fleet.devices import Device
from dispatcher.fleet.officers import Officer, OfficerPosition
from dispatcher.handling.approvals import Approval
from dispatcher.handling.ledger import LedgerEntry
from dispatcher.intake.machine import MachineDetection, MachineSource
from dispatcher.intake.media import Media
from dispatcher.intake.numbers import CaseNumberCounter
from dispatcher.notify.model import Notification
from dispatcher.store.base import Base
from dispatcher.store.gazetteer import AddressImport, AddressRow
from dispatcher.store.gridstore import GridImport, GridRow
from dispatcher.store.idempotency import IdempotencyRecord
from dispatcher.store.outbox import OutboxEvent

__all__ = [
    "Approval",
    "Account",
    "AddressImport",
    "AddressRow",
    "ApiToken",
    "AuditRecord",
    "Base",
    "CaseNumberCounter",
    "CasePartner",
    "Device",
    "FrozenCounts",
    "GridImport",
    "GridRow",
    "IdempotencyRecord",
    "Incident",
    "LedgerEntry",
    "MachineDetection",
    "MachineSource",
    "Media",
    "Notification",
    "Officer",
    "OfficerPosition",
    "OutboxEvent",
    "TimelineEntry",
    "WebSession",
]
