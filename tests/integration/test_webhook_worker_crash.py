"""A worker killed while a webhook is out: its endpoint's lease runs out, another worker sends
the delivery again with the same `webhook-id` (at least once), on both engines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from flask_migrate import upgrade

from service import MIGRATIONS_DIR, create_app
from service.events.log import record
from service.extensions import db
from service.webhooks.endpoints import create_endpoint
from tests.webhook_helpers import Answer, Receiver

REPO = Path(__file__).resolve().parents[2]


def _worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "worker", "--source", "webhook_fanout",
         "--source", "webhook_deliveries"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def test_a_delivery_cut_short_by_a_killed_worker_is_sent_again(app_env, any_database_url):
    env = {**os.environ, **app_env, "PYTHONPATH": str(REPO),
           "MINIFIN_DATABASE_URL": any_database_url, "MINIFIN_JOB_LEASE_SECONDS": "1",
           "MINIFIN_WEBHOOK_TIMEOUT_SECONDS": "3", "MINIFIN_WORKER_POLL_INTERVAL": "0.1",
           "MINIFIN_LOG_LEVEL": "WARNING"}  # fmt: skip
    # The first request hangs until its worker is killed; the next is answered at once.
    receiver = Receiver(answer=lambda n: Answer(200, delay=60) if n == 1 else Answer(200))
    app = create_app(env)
    first = second = None
    try:
        with app.app_context():
            upgrade(directory=MIGRATIONS_DIR)
            endpoint = create_endpoint({"url": receiver.url, "enabled_events": ["*"]})
            receiver.secrets = [endpoint.secret]
            event_id = record("gift.sent", "gift", "gft_1", {"id": "gft_1"})
            db.session.commit()
        first = _worker(env)
        receiver.wait_for(lambda r: len(r.requests) == 1, timeout=30)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        second = _worker(env)
        receiver.wait_for(lambda r: len(r.requests) == 2, timeout=60)  # after the lease (4 s)
    finally:
        for process in (first, second):
            if process and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        receiver.stop()
        with app.app_context():
            db.engine.dispose()
    assert [r.id for r in receiver.requests] == [event_id, event_id]
    assert all(r.verified_with == [endpoint.secret] for r in receiver.requests)
