"""The outbox on both engines: transactional enqueue, exclusive claims, retries, leases, dead."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from service import MIGRATIONS_DIR, create_app
from service.bootstrap import CONTRIBUTIONS
from service.contributions import Contributions
from service.dbtypes import utcnow
from service.extensions import db
from service.scheduler import outbox, outbox_leases
from service.scheduler.models import DEAD, DONE, PENDING, RUNNING, OutboxJob

performed: Counter = Counter()
failures_left: dict[str, int] = {}


def _record(job: outbox.ClaimedJob) -> None:
    key = job.payload["key"]
    if failures_left.get(key, 0) > 0:
        failures_left[key] -= 1
        raise RuntimeError(f"gateway hiccup for {key}")
    performed[key] += 1


def _hopeless(job: outbox.ClaimedJob) -> None:
    raise outbox.PermanentFailure("the platform says this can never work")


TEST_JOBS = Contributions(
    name="test", job_handlers=(("test.record", _record), ("test.hopeless", _hopeless))
)


@pytest.fixture
def outbox_app(app_env, any_database_url):
    performed.clear()
    failures_left.clear()
    application = create_app(
        {
            **app_env,
            "MINIFIN_DATABASE_URL": any_database_url,
            "MINIFIN_JOB_MAX_ATTEMPTS": "3",
            "MINIFIN_JOB_BACKOFF_BASE": "0.05",
            "MINIFIN_JOB_BACKOFF_MAX": "0.2",
            "MINIFIN_JOB_LEASE_SECONDS": "30",
        },
        contributions=(*CONTRIBUTIONS, TEST_JOBS),
    )
    with application.app_context():
        upgrade(directory=MIGRATIONS_DIR)
    yield application
    with application.app_context():
        db.engine.dispose()


def _enqueue(app, count: int, kind: str = "test.record", **kwargs) -> None:
    with app.app_context():
        for n in range(count):
            outbox.enqueue(kind, {"key": f"k{n}"}, **kwargs)
        db.session.commit()


def _jobs(app) -> list[OutboxJob]:
    with app.app_context():
        return list(db.session.scalars(db.select(OutboxJob).order_by(OutboxJob.id)))


def _drain(app, worker_id: str = "w1", rounds: int = 50) -> None:
    with app.app_context():
        for _ in range(rounds):
            if not outbox.run_due_jobs(worker_id, 100) and not _pending_soon(app):
                return
            time.sleep(0.05)


def _pending_soon(app) -> bool:
    return any(job.status in (PENDING, RUNNING) for job in _jobs(app))


def test_a_job_exists_only_if_the_transaction_that_enqueued_it_commits(outbox_app):
    with outbox_app.app_context():
        outbox.enqueue("test.record", {"key": "rolled-back"})
        db.session.rollback()
        outbox.enqueue("test.record", {"key": "committed"})
        db.session.commit()

    assert [job.payload["key"] for job in _jobs(outbox_app)] == ["committed"]


def test_the_same_dedupe_key_makes_one_job(outbox_app):
    with outbox_app.app_context():
        for _ in range(3):
            outbox.enqueue("test.record", {"key": "refund"}, dedupe_key="refund:gft_1")
            db.session.commit()

    assert len(_jobs(outbox_app)) == 1


def test_an_unknown_kind_cannot_be_enqueued(outbox_app):
    with outbox_app.app_context(), pytest.raises(ValueError):
        outbox.enqueue("nobody.handles.this", {})


def test_concurrent_workers_claim_every_job_exactly_once(outbox_app):
    _enqueue(outbox_app, 300)
    claimed: list[list[int]] = []

    def work(worker_id: str) -> None:
        mine: list[int] = []
        with outbox_app.app_context():
            while batch := outbox_leases.claim_batch(worker_id, 7):
                for job in batch:
                    mine.append(job.id)
                    outbox.run_job(job, worker_id)
        claimed.append(mine)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    all_claims = [job_id for mine in claimed for job_id in mine]
    assert len(all_claims) == 300 == len(set(all_claims))
    assert set(performed.values()) == {1} and len(performed) == 300
    assert {job.status for job in _jobs(outbox_app)} == {DONE}


def test_a_failing_job_is_retried_with_backoff_until_it_succeeds(outbox_app):
    failures_left["k0"] = 2
    _enqueue(outbox_app, 1)

    with outbox_app.app_context():
        assert outbox.run_due_jobs("w1", 10) == 1
        job = db.session.scalars(db.select(OutboxJob)).one()
        assert job.status == PENDING and job.attempts == 1
        assert job.run_at > utcnow()
        assert "gateway hiccup" in job.last_error
        assert outbox.run_due_jobs("w1", 10) == 0  # not due yet: backing off
    _drain(outbox_app)

    (job,) = _jobs(outbox_app)
    assert job.status == DONE
    assert job.attempts == 3
    assert performed["k0"] == 1


def test_a_job_that_keeps_failing_is_parked_dead_and_can_be_requeued(outbox_app):
    failures_left["k0"] = 10
    _enqueue(outbox_app, 1)
    _drain(outbox_app)

    (job,) = _jobs(outbox_app)
    assert job.status == DEAD
    assert job.attempts == 3
    with outbox_app.app_context():
        assert [j.id for j in outbox.list_jobs(DEAD)] == [job.id]
        failures_left["k0"] = 0
        assert outbox.requeue_dead() == 1
    _drain(outbox_app)
    assert _jobs(outbox_app)[0].status == DONE
    assert performed["k0"] == 1


def test_a_permanent_failure_is_dead_at_once(outbox_app):
    _enqueue(outbox_app, 1, kind="test.hopeless")
    _drain(outbox_app)

    (job,) = _jobs(outbox_app)
    assert job.status == DEAD
    assert job.attempts == 1
    assert "can never work" in job.last_error


def test_a_job_whose_worker_died_is_rescued_when_its_lease_expires(outbox_app):
    _enqueue(outbox_app, 1)
    with outbox_app.app_context():
        (abandoned,) = outbox_leases.claim_batch("dead-worker", 10)
        assert outbox_leases.claim_batch("live-worker", 10) == []  # the lease still holds
        db.session.execute(
            db.update(OutboxJob).values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()

        (rescued,) = outbox_leases.claim_batch("live-worker", 10)
        outbox.run_job(rescued, "live-worker")
        assert rescued.id == abandoned.id and rescued.attempt == 2
        # The presumed-dead worker comes back to its batch: the job is no longer its own, so
        # it is skipped, not run a second time.
        assert outbox.run_job(abandoned, "dead-worker") is None
        job = db.session.get(OutboxJob, abandoned.id)
        assert job.status == DONE and job.locked_by is None
    assert performed["k0"] == 1


def test_an_idle_worker_knows_when_the_next_job_falls_due(outbox_app):
    with outbox_app.app_context():
        assert outbox.seconds_until_next_job(5.0) == 5.0
        outbox.enqueue("test.record", {"key": "later"}, run_at=utcnow() + timedelta(seconds=2))
        db.session.commit()
        assert 1.0 < outbox.seconds_until_next_job(5.0) <= 2.0
        assert outbox.seconds_until_next_job(0.5) == 0.5


def test_a_sleeping_worker_picks_up_new_work_within_a_second(outbox_app):
    from service.components import settings
    from service.scheduler.wakeup import listener_for
    from service.scheduler.worker import Worker

    with outbox_app.app_context():
        config = settings()
    on_postgres = config.database_url.startswith("postgresql")
    worker = Worker(
        outbox_app,
        # On PostgreSQL a long poll proves that NOTIFY, not polling, woke the worker.
        poll_interval=30 if on_postgres else 0.5,
        wait=listener_for(config, outbox.WAKE_CHANNEL),
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        time.sleep(0.5)  # the worker is asleep now
        enqueued = time.monotonic()
        _enqueue(outbox_app, 1)
        while not performed and time.monotonic() - enqueued < 5:
            time.sleep(0.01)
        waited = time.monotonic() - enqueued
        # Read before the stop: the job enqueued below only wakes the worker, and a
        # polling worker may still run it before it sees the stop.
        performed_once = performed["k0"]
    finally:
        worker.stop()
        _enqueue(outbox_app, 1)  # wakes a listening worker so it sees the stop at once
        thread.join(timeout=35)

    assert performed_once == 1
    assert waited < 1.0


def test_insert_ignoring_conflicts_says_whether_it_inserted(outbox_app):
    from service.sql import insert_ignoring_conflicts

    now = utcnow()
    values = {"kind": "test.record", "payload": {}, "dedupe_key": "once", "status": PENDING,
              "run_at": now, "attempts": 0, "max_attempts": 1, "created_at": now}  # fmt: skip
    with outbox_app.app_context():
        assert insert_ignoring_conflicts(OutboxJob, values) is True
        assert insert_ignoring_conflicts(OutboxJob, values) is False
        db.session.commit()
        assert insert_ignoring_conflicts(OutboxJob, values) is False


def _scrape(app) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    values = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            label = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[sample.name + (f"{{{label}}}" if label else "")] = sample.value
    return values


def test_metrics_report_queue_depth_lateness_throughput_and_dead_jobs(outbox_app):
    _enqueue(outbox_app, 3)
    _enqueue(outbox_app, 1, kind="test.hopeless")
    with outbox_app.app_context():
        outbox.enqueue("test.record", {"key": "later"}, run_at=utcnow() + timedelta(hours=1))
        db.session.execute(
            db.update(OutboxJob)
            .where(OutboxJob.kind == "test.record", OutboxJob.payload["key"].as_string() == "k0")
            .values(run_at=utcnow() - timedelta(seconds=30))
        )
        db.session.commit()

    before = _scrape(outbox_app)
    assert before["minifin_outbox_due_jobs"] == 4  # the one due in an hour is not queued yet
    assert before["minifin_outbox_jobs{status=pending}"] == 5
    assert 29 <= before["minifin_outbox_oldest_due_seconds"] < 60

    with outbox_app.app_context():
        outbox.run_due_jobs("w1", 100)
    after = _scrape(outbox_app)
    assert after["minifin_outbox_due_jobs"] == 0
    assert after["minifin_outbox_oldest_due_seconds"] == 0
    assert after["minifin_outbox_finished_last_minute"] == 3
    assert after["minifin_outbox_dead_jobs"] == 1
    assert after["minifin_outbox_jobs{status=done}"] == 3


def test_upgrading_empties_the_payloads_of_jobs_already_done(app_env, any_database_url):
    application = create_app({**app_env, "MINIFIN_DATABASE_URL": any_database_url})
    with application.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="c6c42906a87f")
        rows = [("done", '{"page": "pages/gift/claim?token=secret"}'), ("dead", '{"key": "k"}')]
        for status, payload in rows:
            db.session.execute(
                text("INSERT INTO outbox_jobs (kind, payload, status, run_at, attempts,"
                     " max_attempts, created_at) VALUES ('test.record', :payload, :status,"
                     " :now, 1, 3, :now)"),
                {"payload": payload, "status": status, "now": utcnow().replace(tzinfo=None)},
            )  # fmt: skip
        db.session.commit()
        upgrade(directory=MIGRATIONS_DIR)
        payloads = dict(db.session.execute(db.select(OutboxJob.status, OutboxJob.payload)).all())
        db.engine.dispose()
    assert payloads == {"done": {}, "dead": {"key": "k"}}
