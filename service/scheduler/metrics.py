"""Scheduler metrics read from the rows themselves, so every worker process is counted.

Workers run in many processes and machines; instead of summing in-process counters, a scrape of
`/metrics` asks the database how much work is waiting, how late it is, how much finished in the
last minute, and how much is dead. The queries are aggregates over the (status, run_at) index.
The same figures make the outbox's part of each worker's periodic summary line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from service.dbtypes import utcnow
from service.extensions import db
from service.scheduler.models import DEAD, DONE, PENDING, OutboxJob

STATUSES = ("pending", "running", "done", "dead")


@dataclass(frozen=True)
class OutboxFigures:
    """Jobs by status, the due queue, and what finished recently."""

    by_status: dict[str, int]
    due: int
    oldest_due_seconds: float
    finished: int


def outbox_figures(window_seconds: float = 60.0, now: datetime | None = None) -> OutboxFigures:
    """The outbox as it stands, with jobs finished in the last `window_seconds`."""
    now = now or utcnow()
    try:
        by_status = dict(
            db.session.execute(
                select(OutboxJob.status, func.count()).group_by(OutboxJob.status)
            ).all()
        )
        due = select(func.count(), func.min(OutboxJob.run_at)).where(
            OutboxJob.status == PENDING, OutboxJob.run_at <= now
        )
        due_count, oldest_due = db.session.execute(due).one()
        finished = db.session.scalar(
            select(func.count()).where(
                OutboxJob.status == DONE,
                OutboxJob.finished_at > now - timedelta(seconds=window_seconds),
            )
        )
    finally:
        db.session.rollback()
    lag = (now - oldest_due).total_seconds() if oldest_due else 0.0
    return OutboxFigures(by_status, due_count, lag, finished or 0)


def summary_line(window_seconds: float) -> str:
    """One log line for a worker's periodic summary ("" when nothing was done, is due or dead)."""
    figures = outbox_figures(window_seconds)
    if not (figures.finished or figures.due or figures.by_status.get(DEAD, 0)):
        return ""
    return (
        f"outbox done {figures.finished} in {window_seconds:.0f}s (all workers), "
        f"{figures.due} due (oldest {figures.oldest_due_seconds:.1f}s), "
        f"{figures.by_status.get(DEAD, 0)} dead"
    )


class OutboxCollector(Collector):
    """Prometheus gauges for the outbox, computed at scrape time (inside an app context)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        figures = outbox_figures()
        jobs = GaugeMetricFamily("minifin_outbox_jobs", "Outbox jobs by status.", labels=["status"])
        for status in STATUSES:
            jobs.add_metric([status], figures.by_status.get(status, 0))
        yield jobs
        yield GaugeMetricFamily(
            "minifin_outbox_due_jobs", "Jobs due now and not yet claimed (queue depth).",
            value=figures.due,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "minifin_outbox_oldest_due_seconds",
            "How long the oldest due, unclaimed job has waited (lateness).",
            value=figures.oldest_due_seconds,
        )
        yield GaugeMetricFamily(
            "minifin_outbox_finished_last_minute", "Jobs completed in the last 60 s (throughput).",
            value=figures.finished,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "minifin_outbox_dead_jobs", "Jobs parked after their last attempt; see `minifin jobs`.",
            value=figures.by_status.get(DEAD, 0),
        )  # fmt: skip
