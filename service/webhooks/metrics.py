"""Webhook gauges read from the rows, so every worker process is counted.

Deliveries by status (succeeded, pending, failed: the outcome so far), the retry queue (pending
deliveries that have failed at least once), how long the oldest pending delivery of an enabled
endpoint has waited since it was created, and how many endpoints are disabled. Retention
prunes finished deliveries with their events, so the counts cover the retention window.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from service.dbtypes import utcnow
from service.extensions import db
from service.webhooks.models import DELIVERY_STATUSES, PENDING, WebhookDelivery, WebhookEndpoint


def summary_line(window_seconds: float) -> str:
    """The deliveries' part of a worker's periodic line ("" when nothing waits or fails)."""
    try:
        pending, retrying = db.session.execute(
            select(func.count(), func.count().filter(WebhookDelivery.attempts > 0)).where(
                WebhookDelivery.status == PENDING
            )
        ).one()
        failing = db.session.scalar(
            select(func.count()).where(WebhookEndpoint.failing_since.is_not(None),
                                       WebhookEndpoint.enabled.is_(True))
        )  # fmt: skip
    finally:
        db.session.rollback()
    if not (pending or failing):
        return ""
    return f"webhooks {pending} pending ({retrying} retrying), {failing} endpoint(s) failing"


class WebhookCollector(Collector):
    """Prometheus gauges for webhook deliveries, computed at scrape time (in an app context)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        try:
            by_status = dict(db.session.execute(
                select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
            ).all())  # fmt: skip
            retrying = db.session.scalar(select(func.count()).where(
                WebhookDelivery.status == PENDING, WebhookDelivery.attempts > 0))  # fmt: skip
            oldest = db.session.scalar(
                select(func.min(WebhookDelivery.created_at))
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(WebhookDelivery.status == PENDING, WebhookEndpoint.enabled.is_(True))
            )
            disabled = db.session.scalar(
                select(func.count()).where(WebhookEndpoint.enabled.is_(False))
            )
        finally:
            db.session.rollback()
        deliveries = GaugeMetricFamily(
            "minifin_webhook_deliveries", "Webhook deliveries by status (outcome so far).",
            labels=["status"],
        )  # fmt: skip
        for status in DELIVERY_STATUSES:
            deliveries.add_metric([status], by_status.get(status, 0))
        yield deliveries
        yield GaugeMetricFamily(
            "minifin_webhook_retry_queue",
            "Pending webhook deliveries that have failed at least once (retry queue depth).",
            value=retrying or 0,
        )
        yield GaugeMetricFamily(
            "minifin_webhook_oldest_pending_seconds",
            "Age of the oldest pending delivery to an enabled endpoint.",
            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        )
        yield GaugeMetricFamily(
            "minifin_webhook_endpoints_disabled", "Endpoints disabled (after failing for days, "
            "or by their merchant).", value=disabled or 0,
        )  # fmt: skip
