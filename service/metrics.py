"""`GET /metrics`: Prometheus text format, for operators' scrapers (not part of the public API)."""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from service.credit.review import DepositReviewCollector
from service.gifting.operator_queue import GiftOperatorQueueCollector
from service.gifting.sending_metrics import GiftSendingCollector
from service.notifications.metrics import RefusedNotificationsCollector
from service.scheduler.metrics import OutboxCollector

blp = Blueprint("metrics", __name__)
_registry = CollectorRegistry(auto_describe=False)
_registry.register(OutboxCollector())
_registry.register(GiftSendingCollector())
_registry.register(DepositReviewCollector())
_registry.register(GiftOperatorQueueCollector())
_registry.register(RefusedNotificationsCollector())


@blp.get("/metrics")
def metrics() -> Response:
    """Every Minifin gauge, read from the database at scrape time."""
    # content_type, not mimetype: Flask would add a second `charset` to one that has it already.
    return Response(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)
