"""What waits for an operator in gifting: gifts parked for review and refunds the platform no
longer takes, with their gauges and the rows `minifin gifts review` / `minifin refunds list`
show. Both are read from the database, so every process sees the same queue."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from service.extensions import db
from service.gifting.models import NEEDS_REVIEW, Gift, OperatorRefund


def gifts_in_review(limit: int = 100) -> list[Gift]:
    """Gifts parked in `needs_review`, oldest first."""
    return list(
        db.session.scalars(
            select(Gift).where(Gift.status == NEEDS_REVIEW).order_by(Gift.created_at).limit(limit)
        )
    )


def refunds_awaiting_operator(limit: int = 100) -> list[OperatorRefund]:
    """Refunds an operator must make outside the gateway, oldest first."""
    return list(db.session.scalars(select(OperatorRefund).order_by(OperatorRefund.id).limit(limit)))


class GiftOperatorQueueCollector(Collector):
    """`minifin_gifts_needs_review` and `minifin_refunds_awaiting_operator` (count and fen)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            in_review = db.session.scalar(select(func.count()).where(Gift.status == NEEDS_REVIEW))
            refunds, owed = db.session.execute(
                select(func.count(), func.coalesce(func.sum(OperatorRefund.amount_fen), 0))
            ).one()
        finally:
            db.session.rollback()
        yield GaugeMetricFamily(
            "minifin_gifts_needs_review",
            "Gifts whose payment did not match them (amount, currency, trade); see "
            "`minifin gifts review`.",
            value=in_review or 0,
        )
        yield GaugeMetricFamily(
            "minifin_refunds_awaiting_operator",
            "Refunds the platform refused after the refund period; see `minifin refunds list`.",
            value=refunds,
        )
        yield GaugeMetricFamily(
            "minifin_refunds_awaiting_operator_fen",
            "The money those refunds owe, in fen.",
            value=owed,
        )
