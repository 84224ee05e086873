"""Refused notifications, counted from their records so every API process is included.

A refused notification is answered `success` (no redelivery could make it acceptable), so the
platform stops telling us; this counter is how an operator hears of it instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from service.extensions import db
from service.notifications.models import REFUSED, GatewayNotification


def refused_by_reason() -> dict[str, int]:
    """How many notifications were refused, by reason (`app_mismatch`, `amount_mismatch`, …)."""
    try:
        rows = db.session.execute(
            select(GatewayNotification.refusal, func.count())
            .where(GatewayNotification.outcome == REFUSED)
            .group_by(GatewayNotification.refusal)
        ).all()
        # A refused notification always records why; a row without a reason has no label.
        return {reason: count for reason, count in rows if reason is not None}
    finally:
        db.session.rollback()


class RefusedNotificationsCollector(Collector):
    """`minifin_notifications_refused_total{reason}`, read at scrape time."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        refused = CounterMetricFamily(
            "minifin_notifications_refused",
            "Signed notifications refused (not ours, or not matching our records), by reason.",
            labels=["reason"],
        )
        for reason, count in sorted(refused_by_reason().items()):
            refused.add_metric([reason or "unknown"], count)
        yield refused
