"""Errors the engine raises; each names the ids involved. The web edge maps them to HTTP statuses."""


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    status = 400
    code = "engine_error"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


class NotFound(EngineError):
    """A referenced record does not exist."""

    status, code = 404, "not_found"


class Invalid(EngineError):
    """The request is well-formed but refers to something unknown or impossible (unknown department...)."""

    status, code = 422, "invalid"


class Conflict(EngineError):
    """The request conflicts with the current state (illegal transition, stale version, reused key)."""

    status, code = 409, "conflict"


class ConcurrentUpdate(Conflict):
    """Another action changed the incident first; reload and retry."""

    code = "concurrent_update"

    def __init__(self, incident_id: str, expected: int | None = None, actual: int | None = None):
        detail = f" (expected version {expected}, found {actual})" if expected is not None else ""
        super().__init__(f"incident {incident_id} was changed by someone else{detail}; reload and retry")
        self.incident_id = incident_id


class AlreadyDispatched(Conflict):
    """A dispatch without `expected_version` of a case that is already dispatched: most likely someone else just
    dispatched it. A deliberate re-dispatch names the version the caller saw (409 otherwise)."""

    code = "already_dispatched"

    def __init__(self, incident_id: str, department: str | None, version: int):
        super().__init__(
            f"incident {incident_id} is already dispatched (to {department or 'no department'}, version {version}); "
            f"to dispatch it again, send expected_version={version}",
            field="expected_version",
        )
        self.incident_id = incident_id


class Forbidden(EngineError):
    """The caller is authenticated but may not do this (403)."""

    status, code = 403, "forbidden"
