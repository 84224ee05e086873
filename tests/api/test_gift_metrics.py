"""Gift sending on `/metrics` and in the worker's summary line: lateness, throughput, queue depth.

The figures are read from the gifts at scrape time, so they count every worker process; these
tests send gifts whose lateness is known and read the figures back.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from service.extensions import db
from service.gifting.models import Gift
from service.gifting.sending import send_due_gifts
from service.gifting.sending_metrics import nearest_rank
from service.scheduler.worker import Worker
from tests.gifting_helpers import buy, order, run_outbox_now
from tests.integration.test_outbox import _scrape

LATE_BY = (30, 10, 2)  # seconds past send_at when the worker looks


@pytest.fixture
def late_gifts(app, client, template, people, mock_idp) -> list[str]:
    """Three paid gifts whose send_at passed 30, 10 and 2 seconds ago."""
    ids = []
    for _ in LATE_BY:
        gift = buy(client, people, order(template, people)).get_json()
        httpx.post(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}/pay").raise_for_status()
        ids.append(gift["id"])
    run_outbox_now(app)
    now = datetime.now(UTC)
    with app.app_context():
        for gift_id, seconds in zip(ids, LATE_BY, strict=True):
            db.session.execute(
                db.update(Gift)
                .where(Gift.id == gift_id)
                .values(send_at=now - timedelta(seconds=seconds))
            )
        db.session.commit()
    return ids


def test_due_gifts_show_as_queue_depth_with_the_age_of_the_oldest(app, late_gifts):
    figures = _scrape(app)

    assert figures["minifin_gifts_due"] == 3
    assert 30 <= figures["minifin_gifts_oldest_due_seconds"] < 40
    assert figures["minifin_gifts_sent{window=1m}"] == 0
    assert figures["minifin_gift_lateness_seconds{quantile=1,window=1m}"] == 0


def test_sent_gifts_show_their_count_and_lateness_quantiles(app, late_gifts):
    with app.app_context():
        assert send_due_gifts("metrics-test", 100) == 3

    figures = _scrape(app)
    assert figures["minifin_gifts_due"] == 0
    assert figures["minifin_gifts_oldest_due_seconds"] == 0
    assert figures["minifin_gifts_sent{window=1m}"] == 3
    assert figures["minifin_gifts_sent{window=5m}"] == 3
    # Nearest rank over (2, 10, 30) s: the median is the 10 s gift, p99 and max the 30 s one.
    assert 10 <= figures["minifin_gift_lateness_seconds{quantile=0.5,window=1m}"] < 15
    assert 30 <= figures["minifin_gift_lateness_seconds{quantile=0.99,window=1m}"] < 35
    assert 30 <= figures["minifin_gift_lateness_seconds{quantile=1,window=1m}"] < 35


def test_a_gift_sent_minutes_ago_leaves_the_last_minute_but_stays_in_the_last_five(app, late_gifts):
    with app.app_context():
        send_due_gifts("metrics-test", 100)
        oldest = db.session.get(Gift, late_gifts[0])
        oldest.send_at -= timedelta(minutes=2)
        oldest.sent_at -= timedelta(minutes=2)
        db.session.commit()

    figures = _scrape(app)
    assert figures["minifin_gifts_sent{window=1m}"] == 2
    assert figures["minifin_gifts_sent{window=5m}"] == 3
    assert 10 <= figures["minifin_gift_lateness_seconds{quantile=1,window=1m}"] < 15
    assert 30 <= figures["minifin_gift_lateness_seconds{quantile=1,window=5m}"] < 35


def test_the_worker_logs_a_summary_of_what_it_sent_and_how_late(app, late_gifts, caplog):
    due_work = app.extensions["minifin"].wiring.due_work
    worker = Worker(
        app,
        sources=[due_work[name] for name in ("due_gifts", "outbox")],
        summary_every=0,  # a line after every pass
        wait=lambda seconds, stop: stop.set(),  # the first idle moment ends the run
    )
    with caplog.at_level(logging.INFO, logger="service.scheduler.worker"):
        worker.run()

    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("worker ")]
    first_pass = next(line for line in lines if "rows in" in line)
    # The messages of the gifts are queued by the first source and sent by the second.
    assert first_pass.startswith(f"worker {worker.id}: 6 rows in 0s (due_gifts 3, outbox 3); ")
    assert "; outbox done " in first_pass and ", 0 dead" in first_pass
    summary = worker.summary(60)
    assert summary.startswith(f"worker {worker.id}: 0 rows in 60s (due_gifts 0, outbox 0); ")
    assert "gifts sent 3 in 60s (all workers), lateness p50 10." in summary
    assert "p99 30." in summary and "max 30." in summary
    assert "0 due (oldest 0.0s)" in summary


@pytest.mark.parametrize(
    ("quantile", "expected"), [(0.5, 2.0), (0.99, 4.0), (1.0, 4.0), (0.25, 1.0)]
)
def test_quantiles_are_nearest_rank(quantile, expected):
    assert nearest_rank([1.0, 2.0, 3.0, 4.0], quantile) == expected
    assert nearest_rank([], quantile) == 0.0
