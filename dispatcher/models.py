"""Every table, imported in one place so metadata and migrations see them all."""
from dispatcher.accounts import Account, ApiToken
from dispatcher.audit import AuditRecord
from dispatcher.base import Base
from dispatcher.gridstore import GridImport, GridRow
from dispatcher.idempotency import IdempotencyRecord
from dispatcher.incident import Incident, TimelineEntry
from dispatcher.machine import MachineDetection, MachineSource
from dispatcher.media import Media
from dispatcher.officers import Officer, OfficerPosition
from dispatcher.outbox import OutboxEvent

__all__ = ["Account", "ApiToken", "AuditRecord", "Base", "GridImport", "GridRow", "IdempotencyRecord", "Incident", "MachineDetection", "MachineSource", "Media", "Officer", "OfficerPosition", "OutboxEvent", "TimelineEntry"]
