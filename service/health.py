"""Liveness and readiness probes for process supervisors and load balancers.

Readiness is this process's own: the database answers. The platform's gateway is reported beside
it as its last known state and never makes a process unready: an outage of the platform would
otherwise take every API process out of the load balancer at once, refusing even what needs no
platform (a wallet, a voucher's redemption), and each probe would send the platform a request.
The gateway is asked at most once every GATEWAY_CHECK_SECONDS per process; probes in between read
the remembered answer (`ok`, `unreachable`, or `unknown` before the first look).
"""

from __future__ import annotations

import threading
import time

import httpx
from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import text

from schemas.common import HealthSchema
from service.components import settings
from service.errors import ServiceUnavailable
from service.extensions import db
from service.openapi import problems

blp = Blueprint("health", __name__, description="Probes.")
GATEWAY_CHECK_SECONDS = 30.0
GATEWAY_CHECK_TIMEOUT = 2.0


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
        httpx.get(settings().gateway_url, timeout=GATEWAY_CHECK_TIMEOUT)
    except httpx.HTTPError:
        return False
    return True


class GatewayState:
    """The gateway's last known state, refreshed by at most one probe at a time, when stale."""

    def __init__(self, every: float = GATEWAY_CHECK_SECONDS, clock=time.monotonic):
        self.every, self.clock = every, clock
        self._state, self._checked_at = "unknown", float("-inf")
        self._lock = threading.Lock()

    def current(self) -> str:
        if self.clock() - self._checked_at >= self.every and self._lock.acquire(blocking=False):
            try:
                self._checked_at = self.clock()
                self._state = "ok" if gateway_reachable() else "unreachable"
            finally:
                self._lock.release()
        return self._state


def gateway_state() -> GatewayState:
    """This app's remembered gateway state (one per app, as each app has its own gateway)."""
    return current_app.extensions.setdefault("minifin_gateway_state", GatewayState())


@blp.route("/healthz", methods=["GET"])
@blp.response(200, HealthSchema)
def healthz():
    """The process is up.

    Liveness for a process supervisor: answers while the process can serve requests, without
    touching the database or the gateway.
    """
    return {"status": "ok", "checks": {}}


@blp.route("/readyz", methods=["GET"])
@blp.response(200, HealthSchema)
@problems(blp, 503)
def readyz():
    """The database answers; `checks.gateway` is the platform's last known state (not required).

    Readiness for a load balancer: 503 `not_ready` while the database does not answer. The
    gateway's state (`ok`, `unreachable`, `unknown`) is reported beside it from a probe made at
    most every 30 seconds, and never makes the process unready.
    """
    if not database_ready():
        raise ServiceUnavailable("Not ready: database.", code="not_ready", retry_after=5)
    return {"status": "ready", "checks": {"database": "ok", "gateway": gateway_state().current()}}
