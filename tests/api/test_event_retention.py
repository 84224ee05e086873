"""The event log keeps `MINIFIN_EVENT_RETENTION_DAYS` of events, pruned in bounded batches."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config.loading import load_settings
from service.dbtypes import utcnow
from service.events import retention
from service.events.log import NewEvent, record_many
from service.events.models import Event
from service.extensions import db


def _events(count: int, age: timedelta) -> list[str]:
    """`count` events recorded `age` ago; returns their ids."""
    ids = record_many(NewEvent("template.updated", "template", f"vtp_{n}", {"id": f"vtp_{n}"})
                      for n in range(count))  # fmt: skip
    db.session.execute(db.update(Event).where(Event.id.in_(ids)).values(created_at=utcnow() - age))
    db.session.commit()
    return ids


def _left() -> set[str]:
    return set(db.session.scalars(db.select(Event.id)))


def test_events_past_the_retention_period_are_pruned_and_younger_ones_kept(app):
    with app.app_context():
        old = _events(3, timedelta(days=30, minutes=1))
        young = _events(2, timedelta(days=29, hours=23))

        assert retention.prune_events("test-worker", 100) == 3

        assert _left() == set(young) and not set(old) & _left()
        assert retention.prune_events("test-worker", 100) == 0


def test_a_backlog_is_pruned_oldest_first_in_batches_of_a_thousand(app):
    with app.app_context():
        oldest = _events(5, timedelta(days=90))
        backlog = _events(retention.PRUNE_BATCH, timedelta(days=31))

        counts = [retention.prune_events("test-worker", 10) for _ in range(3)]

        assert counts == [retention.PRUNE_BATCH, 5, 0]
        assert _left() == set()
        assert len(oldest) + len(backlog) == sum(counts)


def test_the_first_batch_takes_the_oldest_events(app):
    with app.app_context():
        oldest = _events(retention.PRUNE_BATCH, timedelta(days=60))
        newer = _events(7, timedelta(days=40))

        retention.prune_events("test-worker", 10)

        assert _left() == set(newer) and not set(oldest) & _left()


def test_the_worker_sleeps_until_the_oldest_event_passes_the_period(app):
    with app.app_context():
        assert retention.seconds_until_prunable(60) == 60
        _events(1, timedelta(days=31))
        assert retention.seconds_until_prunable(60) == 0
        retention.prune_events("test-worker", 10)
        _events(1, timedelta(days=30) - timedelta(seconds=20))  # the oldest now, by the log's order
        assert 10 < retention.seconds_until_prunable(60) <= 20


def test_the_retention_period_is_configurable_within_its_range(app_env):
    assert load_settings(app_env).event_retention_days == 30
    assert load_settings({**app_env, "MINIFIN_EVENT_RETENTION_DAYS": "7"}).event_retention_days == 7
    for refused in ("0", "3651", "soon"):
        with pytest.raises(Exception, match="EVENT_RETENTION_DAYS"):
            load_settings({**app_env, "MINIFIN_EVENT_RETENTION_DAYS": refused})
