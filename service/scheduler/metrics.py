"""Scheduler metrics read from the rows themselves, so every worker process is counted.

Workers run in many processes and machines; instead of summing in-process counters, a scrape of
`/metrics` asks the database how much work is waiting, how late it is, how much finished in the
last minute, and how much is dead. The queries are aggregates over the (status, run_at) index.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from service.dbtypes import utcnow
from service.extensions import db
from service.scheduler.models import DONE, PENDING, OutboxJob

STATUSES = ("pending", "running", "done", "dead")


class OutboxCollector(Collector):
    """Prometheus gauges for the outbox, computed at scrape time (inside an app context)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
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
                OutboxJob.status == DONE, OutboxJob.finished_at > now - timedelta(minutes=1)
            )
        )
        db.session.rollback()

        jobs = GaugeMetricFamily("minifin_outbox_jobs", "Outbox jobs by status.", labels=["status"])
        for status in STATUSES:
            jobs.add_metric([status], by_status.get(status, 0))
        yield jobs
        yield GaugeMetricFamily(
            "minifin_outbox_due_jobs", "Jobs due now and not yet claimed (queue depth).",
            value=due_count,
        )  # fmt: skip
        lag = (now - oldest_due).total_seconds() if oldest_due else 0.0
        yield GaugeMetricFamily(
            "minifin_outbox_oldest_due_seconds",
            "How long the oldest due, unclaimed job has waited (lateness).",
            value=lag,
        )
        yield GaugeMetricFamily(
            "minifin_outbox_finished_last_minute", "Jobs completed in the last 60 s (throughput).",
            value=finished or 0,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "minifin_outbox_dead_jobs", "Jobs parked after their last attempt; see `minifin jobs`.",
            value=by_status.get("dead", 0),
        )  # fmt: skip
