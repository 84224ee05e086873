"""How gift sending is doing, read from the gifts themselves, so every worker process is counted.

Workers run in many processes and machines, so lateness (`sent_at` − `send_at`) is not kept in
any one process: a scrape of `/metrics`, or a worker's periodic summary line, asks the database
how many gifts were sent in the last minute and five minutes, how late they were (median, 99th
percentile, worst), and how many due gifts are still waiting. The reads use the `sent_at` and
(`status`, `send_at`) indexes, so they cost the same with a million gifts scheduled.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from service.dbtypes import utcnow
from service.extensions import db
from service.gifting.models import SCHEDULED, Gift

WINDOWS = {"1m": 60, "5m": 300}
QUANTILES = (0.5, 0.99, 1.0)  # 1.0 is the worst


@dataclass(frozen=True)
class SendingFigures:
    """Gifts sent in a window and their lateness, and the due gifts not yet sent."""

    sent: int
    lateness: dict[float, float]  # quantile → seconds (0 when nothing was sent)
    due: int
    oldest_due_seconds: float


def sending_figures(window_seconds: float, now: datetime | None = None) -> SendingFigures:
    """The figures for the last `window_seconds`; ends its read transaction."""
    now = now or utcnow()
    since = now - timedelta(seconds=window_seconds)
    try:
        sent, lateness = _lateness_quantiles(since)
        due, oldest = db.session.execute(
            select(func.count(), func.min(Gift.send_at)).where(
                Gift.status == SCHEDULED, Gift.send_at <= now
            )
        ).one()
    finally:
        db.session.rollback()
    oldest_due = (now - oldest).total_seconds() if oldest else 0.0
    return SendingFigures(sent, lateness, due, max(0.0, oldest_due))


def _lateness_seconds():
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", Gift.sent_at - Gift.send_at)
    return (func.julianday(Gift.sent_at) - func.julianday(Gift.send_at)) * 86400.0


def _lateness_quantiles(since: datetime) -> tuple[int, dict[float, float]]:
    """How many gifts were sent after `since`, and nearest-rank quantiles of their lateness.

    PostgreSQL computes the quantiles itself; SQLite (a development database) has no such
    aggregate, so the sorted values are read and ranked here.
    """
    recent = Gift.sent_at > since
    if db.session.get_bind().dialect.name == "postgresql":
        quantiles = [func.percentile_disc(q).within_group(_lateness_seconds()) for q in QUANTILES]
        count, *values = db.session.execute(select(func.count(), *quantiles).where(recent)).one()
        return count, {q: float(v or 0.0) for q, v in zip(QUANTILES, values, strict=True)}
    ordered = db.session.scalars(
        select(_lateness_seconds()).where(recent).order_by(_lateness_seconds())
    ).all()
    return len(ordered), {q: nearest_rank(ordered, q) for q in QUANTILES}


def nearest_rank(ordered: Sequence[float], quantile: float) -> float:
    """The nearest-rank quantile of sorted values (what PostgreSQL's percentile_disc gives)."""
    if not ordered:
        return 0.0
    return float(ordered[max(0, math.ceil(quantile * len(ordered)) - 1)])


def summary_line(window_seconds: float) -> str:
    """One log line for a worker's periodic summary ("" when none was sent and none is due)."""
    figures = sending_figures(window_seconds)
    if not (figures.sent or figures.due):
        return ""
    late = figures.lateness
    return (
        f"gifts sent {figures.sent} in {window_seconds:.0f}s (all workers), lateness "
        f"p50 {late[0.5]:.2f}s p99 {late[0.99]:.2f}s max {late[1.0]:.2f}s, "
        f"{figures.due} due (oldest {figures.oldest_due_seconds:.1f}s)"
    )


class GiftSendingCollector(Collector):
    """Prometheus gauges for gift sending, computed at scrape time (inside an app context)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        by_window = {name: sending_figures(seconds, now) for name, seconds in WINDOWS.items()}
        sent = GaugeMetricFamily(
            "minifin_gifts_sent", "Gifts sent in the window (throughput).", labels=["window"]
        )
        lateness = GaugeMetricFamily(
            "minifin_gift_lateness_seconds",
            "Lateness (sent_at - send_at) of the gifts sent in the window, by quantile "
            "(1 is the worst); 0 when none was sent.",
            labels=["window", "quantile"],
        )
        for name, figures in by_window.items():
            sent.add_metric([name], figures.sent)
            for quantile, seconds in figures.lateness.items():
                lateness.add_metric([name, f"{quantile:g}"], seconds)
        yield sent
        yield lateness
        latest = by_window["1m"]
        yield GaugeMetricFamily(
            "minifin_gifts_due", "Scheduled gifts due now and not yet sent (queue depth).",
            value=latest.due,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "minifin_gifts_oldest_due_seconds",
            "How long the oldest due, unsent gift has waited.",
            value=latest.oldest_due_seconds,
        )
