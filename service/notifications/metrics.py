"""Refused and unhandled notifications, counted from their records so every API process is
included.

A refused notification is answered `success` (no redelivery could make it acceptable), so the
platform stops telling us; this counter is how an operator hears of it instead. An unhandled one
(a type no capability handles) is parked and delivered again by the platform; the gauge says how
many wait for a handler, by type.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from service.extensions import db
from service.notifications.models import REFUSED, UNHANDLED, GatewayNotification


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


def unhandled_by_type() -> dict[str, int]:
    """How many notifications are parked for want of a handler, by notification type."""
    try:
        return dict(
            db.session.execute(
                select(GatewayNotification.notify_type, func.count())
                .where(GatewayNotification.outcome == UNHANDLED)
                .group_by(GatewayNotification.notify_type)
            ).all()
        )
    finally:
        db.session.rollback()


class UnhandledNotificationsCollector(Collector):
    """`minifin_notifications_unhandled{notify_type}`, read at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        unhandled = GaugeMetricFamily(
            "minifin_notifications_unhandled",
            "Signed notifications parked because no capability handles their type (the platform"
            " delivers them again), by type.",
            labels=["notify_type"],
        )
        for notify_type, count in sorted(unhandled_by_type().items()):
            unhandled.add_metric([notify_type], count)
        yield unhandled


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
