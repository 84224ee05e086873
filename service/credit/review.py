"""Deposits an operator must look at: the platform reported amounts that do not add up.

When what the platform says about a deposit's money (a freeze of another amount, a split whose
`credit + fund` is not the amount, a release or payment Minifin cannot place) disagrees with
Minifin's ledger, Minifin does not guess and does not acknowledge it silently: the deposit is
parked in `needs_review` with the reason (no further release or charge goes through until an
operator has looked), logged without personal data, counted in `/metrics`
(`minifin_deposits_needing_review`) and listed by `minifin deposits review`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select, update

from service.credit.credit_events import record_deposit
from service.credit.models import (
    AMOUNT_MISMATCH,
    NEEDS_REVIEW,
    SETTLED,
    SPLIT_MISMATCH,
    UNEXPECTED_PAYMENT,
    UNEXPECTED_RELEASE,
    Deposit,
)
from service.extensions import db

log = logging.getLogger(__name__)


def park(deposit_id: str, problem: str, detail: str) -> None:
    """Put the deposit in `needs_review` with why (in the caller's transaction; it commits), and
    tell merchants (`deposit.needs_review`) when that is news: the deposit was not in review
    yet, or the problem is another. The row is locked first, so two reports of one problem,
    told at once or again later, make one event."""
    before = db.session.execute(
        select(Deposit.status, Deposit.problem).where(Deposit.id == deposit_id).with_for_update()
    ).one()
    db.session.execute(
        update(Deposit)
        .where(Deposit.id == deposit_id, Deposit.status != SETTLED)
        .values(status=NEEDS_REVIEW, problem=problem, problem_detail=detail[:256])
    )
    db.session.execute(
        update(Deposit)  # a settled deposit keeps its status, but still says what is wrong
        .where(Deposit.id == deposit_id, Deposit.status == SETTLED)
        .values(problem=problem, problem_detail=detail[:256])
    )
    log.error("deposit %s needs review: %s (%s)", deposit_id, problem, detail)
    if before.problem != problem or before.status not in (NEEDS_REVIEW, SETTLED):
        record_deposit("deposit.needs_review", deposit_id)


def needing_review(limit: int = 100) -> list[Deposit]:
    """The deposits parked for review (and settled ones with a problem), oldest first."""
    rows = db.session.scalars(
        select(Deposit)
        .where((Deposit.status == NEEDS_REVIEW) | Deposit.problem.in_(REVIEW_PROBLEMS))
        .order_by(Deposit.created_at, Deposit.id)
        .limit(limit)
    )
    return list(rows)


REVIEW_PROBLEMS = (AMOUNT_MISMATCH, SPLIT_MISMATCH, UNEXPECTED_RELEASE, UNEXPECTED_PAYMENT)


class DepositReviewCollector(Collector):
    """`minifin_deposits_needing_review`: how many deposits wait for an operator, by reason."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "minifin_deposits_needing_review",
            "Deposits whose platform amounts do not match the ledger, by problem.",
            labels=["problem"],
        )
        try:
            counts = dict(
                db.session.execute(
                    select(Deposit.problem, func.count())
                    .where(Deposit.problem.in_(REVIEW_PROBLEMS))
                    .group_by(Deposit.problem)
                ).all()
            )
        finally:
            db.session.rollback()
        for problem in REVIEW_PROBLEMS:
            gauge.add_metric([problem], counts.get(problem, 0))
        yield gauge
