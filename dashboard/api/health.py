"""GET /health: database and Redis state for load balancers and operators."""

from flask import Blueprint, jsonify

from dashboard.runtime import current_runtime

health_bp = Blueprint("health", __name__)


@health_bp.get("/health")
def health():
    """200 while the database answers (status "degraded" if Redis is down), 503 without the database."""
    report = current_runtime().health()
    return jsonify(report), 503 if report["status"] == "down" else 200
