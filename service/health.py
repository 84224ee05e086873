"""Liveness and readiness probes for process supervisors and load balancers."""

from __future__ import annotations

import httpx
from flask_smorest import Blueprint
from sqlalchemy import text

from schemas.common import HealthSchema
from service.components import settings
from service.errors import ServiceUnavailable
from service.extensions import db
from service.openapi import problems

blp = Blueprint("health", __name__, description="Probes.")


def database_ready() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not ready", whatever its class
        return False
    finally:
        db.session.rollback()
    return True


def gateway_reachable() -> bool:
    """Any HTTP answer from the gateway URL counts: the protocol answers 200 even to nonsense."""
    try:
        httpx.get(settings().gateway_url, timeout=2.0)
    except httpx.HTTPError:
        return False
    return True


@blp.route("/healthz", methods=["GET"])
@blp.response(200, HealthSchema)
def healthz():
    """The process is up."""
    return {"status": "ok", "checks": {}}


@blp.route("/readyz", methods=["GET"])
@blp.response(200, HealthSchema)
@problems(blp, 503)
def readyz():
    """The database answers and the gateway is reachable."""
    checks = {
        "database": "ok" if database_ready() else "unreachable",
        "gateway": "ok" if gateway_reachable() else "unreachable",
    }
    if any(value != "ok" for value in checks.values()):
        failed = ", ".join(name for name, value in checks.items() if value != "ok")
        raise ServiceUnavailable(f"Not ready: {failed}.", code="not_ready", retry_after=5)
    return {"status": "ready", "checks": checks}
