"""Outbox leases on both engines: each job is leased when it starts, on the database's clock.

A worker claims a batch and runs it job after job. A lease that covered the whole batch ran out
while the batch was still going, and a second worker took the jobs that had not started yet, so
both ran them; a worker whose own clock ran ahead saw every lease as expired. These tests pin the
rules that close both: the lease is renewed (one statement) right before each job starts, a job
taken over meanwhile is skipped, and lease times are read and written with the database's clock.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import timedelta

import pytest

from service.bootstrap import CONTRIBUTIONS
from service.contributions import Contributions
from service.dbtypes import utcnow
from service.extensions import db
from service.scheduler import outbox, outbox_leases
from service.scheduler.models import DONE, OutboxJob
from tests.conftest import migrated_app

LEASE_SECONDS = 1
runs: defaultdict[str, list[str]] = defaultdict(list)
pauses: dict[str, threading.Event] = {}
slow_first = threading.Event()


def _probe(job: outbox.ClaimedJob) -> None:
    """Records who ran which job; `first` outlasts the claim's lease, `second` waits on a cue."""
    key, worker = job.payload["key"], job.payload["worker_hint"]
    runs[key].append(worker)
    if key == "first" and slow_first.is_set():
        time.sleep(LEASE_SECONDS + 0.3)
    if key in pauses and worker == "A":
        pauses[key].wait(10)


PROBE = Contributions(name="test", job_handlers=(("test.lease_probe", _probe),))


@pytest.fixture
def lease_app(app_env, any_database_url):
    runs.clear()
    pauses.clear()
    slow_first.clear()
    with migrated_app(
        app_env,
        any_database_url,
        contributions=(*CONTRIBUTIONS, PROBE),
        MINIFIN_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
    ) as application:
        yield application


def _enqueue(app, *keys: str, worker_hint: str = "A") -> None:
    with app.app_context():
        for key in keys:
            outbox.enqueue("test.lease_probe", {"key": key, "worker_hint": worker_hint})
        db.session.commit()


def _skew_worker_clock(monkeypatch, offset: timedelta) -> None:
    """This worker's own clock off by `offset` wherever the outbox could read it."""
    for module in (outbox, outbox_leases):  # the leases read none today; if one ever did, skewed
        monkeypatch.setattr(module, "utcnow", lambda: utcnow() + offset, raising=False)


def _hint(app, worker: str) -> None:
    """Tell the probe who runs it next (the payload is what a handler sees)."""
    with app.app_context():
        for job in db.session.scalars(db.select(OutboxJob)):
            job.payload = {**job.payload, "worker_hint": worker}
        db.session.commit()


def test_a_batch_slower_than_the_lease_runs_each_job_once_while_a_second_worker_claims(
    lease_app,
):
    _enqueue(lease_app, "first", "second", "third")
    slow_first.set()  # the first job alone outlasts the lease the claim gave the whole batch
    pauses["second"] = threading.Event()
    in_second = threading.Event()
    original = pauses["second"].wait

    def second_started(timeout: float) -> bool:
        in_second.set()
        return original(timeout)

    pauses["second"].wait = second_started  # type: ignore[method-assign]

    def worker_a() -> None:
        with lease_app.app_context():
            outbox.run_due_jobs("A", 100)

    a = threading.Thread(target=worker_a)
    a.start()
    assert in_second.wait(10), "worker A never reached its second job"
    _hint(lease_app, "B")  # worker A is inside `second`, `third` has not started yet
    with lease_app.app_context():
        taken = outbox.run_due_jobs("B", 100)
    pauses["second"].set()
    a.join(10)

    assert taken == 1  # only `third`: `second` was leased afresh when A started it
    assert dict(runs) == {"first": ["A"], "second": ["A"], "third": ["B"]}
    with lease_app.app_context():
        assert {job.status for job in db.session.scalars(db.select(OutboxJob))} == {DONE}


def test_a_worker_whose_clock_runs_ahead_does_not_take_a_job_still_leased(lease_app, monkeypatch):
    _enqueue(lease_app, "only")
    with lease_app.app_context():
        (held,) = outbox_leases.claim_batch("A", 10)
        _skew_worker_clock(monkeypatch, timedelta(minutes=10))
        # B's clock says A's lease ran out; it has not
        assert outbox_leases.claim_batch("B", 10) == []
        monkeypatch.undo()
        assert outbox.run_job(held, "A") == DONE
    assert dict(runs) == {"only": ["A"]}


def test_a_worker_whose_clock_lags_still_rescues_a_job_whose_lease_ran_out(lease_app, monkeypatch):
    _enqueue(lease_app, "only")
    with lease_app.app_context():
        outbox_leases.claim_batch("dead-worker", 10)  # claimed, never finished
    time.sleep(LEASE_SECONDS + 0.2)
    _hint(lease_app, "B")
    with lease_app.app_context():
        _skew_worker_clock(monkeypatch, -timedelta(minutes=10))
        assert outbox.run_due_jobs("B", 10) == 1
    assert dict(runs) == {"only": ["B"]}


def test_a_job_taken_over_before_it_started_is_skipped_by_the_worker_that_lost_it(lease_app):
    _enqueue(lease_app, "one", "two")
    with lease_app.app_context():
        first, second = outbox_leases.claim_batch("A", 10)
    time.sleep(LEASE_SECONDS + 0.2)
    _hint(lease_app, "B")
    with lease_app.app_context():
        assert outbox.run_due_jobs("B", 10) == 2
        assert outbox.run_job(first, "A") is None  # lost: not run, nothing recorded
        assert outbox.run_job(second, "A") is None
    assert dict(runs) == {"one": ["B"], "two": ["B"]}
