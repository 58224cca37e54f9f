"""GET /health: database, Redis, workers, outbox lag and this web process's delivery, for load balancers and
operators. 503 without the database (within a few seconds even when it hangs); "degraded" (200) when something a
push or a deadline depends on is missing or late."""

from flask import Blueprint, current_app, jsonify

from dashboard.delivery import delivery_of
from dashboard.runtime import bounded, current_runtime

health_bp = Blueprint("health", __name__)


@health_bp.get("/health")
def health():
    """200 while the database answers ("degraded" if Redis, a worker or delivery is missing or late), 503 without."""
    runtime = current_runtime()
    report = runtime.health()
    delivery = delivery_of(current_app)
    if delivery is not None and report["status"] != "down":
        now = runtime.clock()

        def status() -> dict:
            with runtime.sessions() as session:
                return delivery.status(session, now)

        report["delivery"] = bounded(status, float(runtime.settings.db_connect_timeout_s)) or {"state": "unknown"}
        if report["delivery"].get("lag_s", 0) > runtime.settings.health_lag_s:
            report["problems"].append("delivery lag")
            report["status"] = "degraded"
    return jsonify(report), 503 if report["status"] == "down" else 200
