"""Several worker processes, one killed with SIGKILL again and again: nothing lost, repeats bounded.

The jobs send template messages through the live mock, which delivers every send (the platform
has no idempotency key for messages), so its inbox counts effects. A killed worker's jobs come
back when their leases expire. Each message lands once, unless its worker was killed while
sending it (an attempt of unknown outcome); then it is sent again at most once.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
from flask_migrate import upgrade

from service import MIGRATIONS_DIR, create_app
from service.extensions import db
from service.gifting.jobs import TEMPLATE_MESSAGE
from service.scheduler import outbox
from service.scheduler.models import DEAD, DONE, OutboxJob

REPO = Path(__file__).resolve().parents[2]
JOBS = 1000
WORKERS = 3


def _start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "worker", "--batch-size", "20"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def test_killing_workers_mid_batch_loses_no_message_and_repeats_only_those_cut_short_mid_send(
    app_env, any_database_url, mock_idp, demo_users
):
    env = {**os.environ, **app_env, "PYTHONPATH": str(REPO),
           "MINIFIN_DATABASE_URL": any_database_url, "MINIFIN_JOB_LEASE_SECONDS": "2",
           "MINIFIN_WORKER_POLL_INTERVAL": "0.1", "MINIFIN_LOG_LEVEL": "WARNING"}  # fmt: skip
    app = create_app(env)
    run = secrets.token_hex(4)
    recipient = demo_users[2]["user_id"]
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        for n in range(JOBS):
            outbox.enqueue(TEMPLATE_MESSAGE, {
                "to_user_id": recipient, "template_id": "TPL_GIFT",
                "page": f"pages/claim?run={run}&n={n}", "data": {"keyword1": f"gift {n}"},
                "form_id": "2026112522001",
            }, dedupe_key=f"crash:{run}:{n}")  # fmt: skip
        db.session.commit()

    workers = [_start_worker(env) for _ in range(WORKERS)]
    kills = 0
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            with app.app_context():
                done = db.session.scalar(
                    db.select(db.func.count())
                    .select_from(OutboxJob)
                    .where(OutboxJob.status.in_([DONE, DEAD]))
                )
                db.session.rollback()
            if done == JOBS:
                break
            time.sleep(0.25)
            if done > 0 and kills < 6:  # kill only once workers are busy
                victim = random.randrange(len(workers))
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                workers[victim] = _start_worker(env)
                kills += 1
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)

    with app.app_context():
        statuses = dict(
            db.session.execute(
                db.select(OutboxJob.status, db.func.count()).group_by(OutboxJob.status)
            ).all()
        )
        unreleased = db.session.scalar(
            db.select(db.func.count()).select_from(OutboxJob).where(OutboxJob.locked_by.isnot(None))
        )
        retried = db.session.scalar(
            db.select(db.func.count()).select_from(OutboxJob).where(OutboxJob.attempts > 1)
        )
        jobs = {key.split(":")[2]: (status, cut_short) for key, status, cut_short in
                db.session.execute(db.select(OutboxJob.dedupe_key, OutboxJob.status,
                                             OutboxJob.ambiguous_attempts))}  # fmt: skip
        db.engine.dispose()
    inbox = httpx.get(f"{mock_idp.url}/_mock/inbox/{recipient}").json()["messages"]
    prefix = f"pages/claim?run={run}&n="
    sent = Counter(m["page"].removeprefix(prefix) for m in inbox if m["page"].startswith(prefix))

    assert kills >= 1
    assert retried >= 1, "no job was ever taken over: the kills proved nothing"
    assert statuses.get(DONE, 0) + statuses.get(DEAD, 0) == JOBS
    assert unreleased == 0
    assert set(jobs) == {str(n) for n in range(JOBS)}
    for n, (status, cut_short) in jobs.items():
        # `cut_short`: attempts a kill interrupted mid-send, whose outcome is unknown
        if cut_short == 0:
            assert (status, sent[n]) == (DONE, 1), n  # never interrupted mid-send: exactly once
        elif status == DONE:
            assert 1 <= sent[n] <= 2, n  # at most one repeat after an attempt of unknown outcome
        else:  # interrupted twice: given up rather than risk a second duplicate
            assert (status, cut_short > 1, sent[n] <= 2) == (DEAD, True, True), n
