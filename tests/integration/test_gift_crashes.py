"""Workers draining thousands of due gifts, one killed with SIGKILL again and again.

Every gift is sent exactly once and its vouchers are issued once, and no row is left claimed by
a dead worker: sending a batch is one transaction, so a kill rolls the whole batch back for
another worker to take, merchant events (`gift.sent`, `voucher.issued`) included: each is there
once, with its change. Messages are at-least-once (the platform has no idempotency key for
them): each reaches the friend's inbox once, unless a worker was killed while sending it, and
then at most twice; the mock delivers every send, so its inbox counts the duplicates.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
from flask_migrate import upgrade
from sqlalchemy import func, select

from service import MIGRATIONS_DIR, create_app
from service.events.models import Event
from service.extensions import db
from service.gifting.models import SCHEDULED, SENT, Gift, GiftEvent, Voucher
from service.scheduler.models import DEAD, DONE, OutboxJob
from tests.gifting_helpers import seed_paid_gifts

REPO = Path(__file__).resolve().parents[2]
GIFTS = 2000
QUANTITY = 2
WORKERS = 3
SPREAD_SECONDS = 20  # long enough for several kills while gifts fall due, even on a busy machine


def _start_worker(env: dict[str, str], log: Path | None = None) -> subprocess.Popen:
    """A worker process; with `log`, its INFO log goes there (to see when it has started)."""
    if log is None:
        return subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker", "--batch-size", "25"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker", "--batch-size", "25"],
            env={**env, "MINIFIN_LOG_LEVEL": "INFO"}, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _wait_until_started(log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while "started (sources:" not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"the worker did not start:\n{log.read_text()}"
        time.sleep(0.05)


def _seed_due_gifts(friend_platform_id: str) -> list[str]:
    """GIFTS paid gifts to the friend, falling due over SPREAD_SECONDS (from a second ago), so
    the kills land while gifts are being sent, not only once the messages are left."""
    return seed_paid_gifts(
        friend_platform_id, GIFTS, QUANTITY,
        lambda n, now: now - timedelta(seconds=1) + timedelta(seconds=SPREAD_SECONDS * n / GIFTS),
    )  # fmt: skip


def _count(*conditions) -> int:
    return db.session.scalar(select(func.count()).where(*conditions))


def test_killing_workers_while_they_send_gifts_sends_each_gift_and_voucher_once_and_bounds_messages(
    app_env, any_database_url, mock_idp, demo_users, tmp_path
):
    env = {**os.environ, **app_env, "PYTHONPATH": str(REPO),
           "MINIFIN_DATABASE_URL": any_database_url, "MINIFIN_JOB_LEASE_SECONDS": "2",
           "MINIFIN_WORKER_POLL_INTERVAL": "0.1", "MINIFIN_LOG_LEVEL": "WARNING"}  # fmt: skip
    app = create_app(env)
    friend = demo_users[2]["user_id"]
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        gift_ids = _seed_due_gifts(friend)

    log = tmp_path / "victim.log"
    workers = [_start_worker(env, log)] + [_start_worker(env) for _ in range(WORKERS - 1)]
    kills = kills_while_sending = 0
    deadline = time.monotonic() + 300  # it ends as soon as all is sent; a loaded machine is slow
    try:
        while time.monotonic() < deadline:
            _wait_until_started(log)
            time.sleep(random.uniform(0.3, 0.8))  # let it claim and work, then kill it mid-way
            with app.app_context():
                unsent = _count(Gift.status == SCHEDULED)
                messages_done = _count(OutboxJob.status.in_([DONE, DEAD]))
                db.session.rollback()
            if unsent == 0 and messages_done == GIFTS:
                break
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait()
            workers[0] = _start_worker(env, log)
            kills += 1
            kills_while_sending += unsent > 0
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)

    with app.app_context():
        statuses = Counter(dict(db.session.execute(
            select(Gift.status, func.count()).group_by(Gift.status)).all()))  # fmt: skip
        vouchers_per_gift = Counter(dict(db.session.execute(
            select(Voucher.gift_id, func.count()).group_by(Voucher.gift_id)).all()))  # fmt: skip
        distinct_codes = db.session.scalar(select(func.count(func.distinct(Voucher.code_index))))
        sent_events = _count(GiftEvent.type == "sent")
        merchant_events = {kind: Counter(db.session.scalars(
            select(Event.object_id).where(Event.type == kind))) for kind in
            ("gift.sent", "voucher.issued")}  # fmt: skip
        voucher_ids = set(db.session.scalars(select(Voucher.id)))
        message_jobs = {key.split(":")[1]: (status, unknown) for key, status, unknown in
                        db.session.execute(select(OutboxJob.dedupe_key, OutboxJob.status,
                                                  OutboxJob.ambiguous_attempts))}  # fmt: skip
        still_claimed = _count(OutboxJob.locked_by.is_not(None))
        taken_over = _count(OutboxJob.attempts > 1)
        db.engine.dispose()
    inbox = httpx.get(f"{mock_idp.url}/_mock/inbox/{friend}", timeout=30).json()["messages"]
    received = Counter(m["form_id"] for m in inbox if m["form_id"] in message_jobs)

    assert kills >= 5 and kills_while_sending >= 2, (kills, kills_while_sending)
    assert statuses == {SENT: GIFTS}
    assert set(vouchers_per_gift) == set(gift_ids)
    assert set(vouchers_per_gift.values()) == {QUANTITY}
    assert distinct_codes == GIFTS * QUANTITY
    assert sent_events == GIFTS
    assert merchant_events["gift.sent"] == Counter(gift_ids)  # each gift's, once
    assert set(merchant_events["voucher.issued"]) == voucher_ids
    assert set(merchant_events["voucher.issued"].values()) == {1}
    assert set(message_jobs) == set(gift_ids)  # one message job per gift
    assert still_claimed == 0
    for gift_id, (status, unknown) in message_jobs.items():
        # `unknown`: attempts a kill cut short mid-send; only those may have delivered twice.
        if status == DONE:
            assert 1 <= received[gift_id] <= min(2, 1 + unknown), (gift_id, received[gift_id])
        else:  # given up rather than risk a second duplicate
            assert (status, unknown > 1, received[gift_id] <= 2) == (DEAD, True, True)
    duplicates = sum(count - 1 for count in received.values())
    print(f"{kills} kills ({kills_while_sending} while gifts were due), {taken_over} message "
          f"jobs taken over after a kill, {duplicates} duplicate messages")  # fmt: skip
