"""The baseline: the same burst of gifts fired by APScheduler 3 with its SQLAlchemy job store.

Run as a child process by `bench/scheduler.py` on a database it has seeded: every scheduled gift
becomes one date-triggered job in an `SQLAlchemyJobStore` on the same database (the rows
APScheduler's `add_job` would write, inserted in bulk so that seeding is not what takes time),
and each job does the same database work as Minifin sending that gift: `send_gift_if_due`, which
takes the gift, issues its voucher and claim token, records the event and queues the message,
in one transaction. Jobs run on APScheduler's default thread pool (`--threads`) and may run
however late (`misfire_grace_time=None`), so every gift is sent.

APScheduler 3 cannot share a job store between processes (each scheduler would run every job),
so the baseline is one scheduler process, which is how it is deployed.

Protocol with the parent: one line `READY {"due_at": …, …}` on stdout once the burst is in the
job store and the scheduler resumed; then it runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pickle
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from apscheduler.executors.pool import ThreadPoolExecutor  # noqa: E402
from apscheduler.job import Job  # noqa: E402
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore  # noqa: E402
from apscheduler.schedulers.background import BackgroundScheduler  # noqa: E402
from apscheduler.triggers.date import DateTrigger  # noqa: E402
from apscheduler.util import datetime_to_utc_timestamp  # noqa: E402

from bench import gift_rows  # noqa: E402

JOB_REF = "bench.apscheduler_baseline:send_gift_job"
CHUNK = 5000
_apps: list = []  # the Flask app the jobs use, made by main() before any job runs


def send_gift_job(gift_id: str) -> None:
    """One APScheduler job: send this gift, exactly as a Minifin worker would."""
    from service.extensions import db
    from service.gifting.sending import send_gift_if_due

    with _apps[0].app_context():
        try:
            send_gift_if_due(gift_id)
        finally:
            db.session.remove()


def job_rows(scheduler, store, gifts: list[tuple[str, datetime]]) -> list[dict]:
    """The rows `SQLAlchemyJobStore.add_job` writes, one per gift, for a bulk insert."""
    rows = []
    for gift_id, run_at in gifts:
        job = Job(
            scheduler, id=gift_id, func=JOB_REF, args=(gift_id,), kwargs={},
            trigger=DateTrigger(run_date=run_at, timezone=UTC), executor="default",
            name="send gift", misfire_grace_time=None, coalesce=False, max_instances=1,
            next_run_time=run_at,
        )  # fmt: skip
        rows.append({
            "id": gift_id,
            "next_run_time": datetime_to_utc_timestamp(run_at),
            "job_state": pickle.dumps(job.__getstate__(), store.pickle_protocol),
        })  # fmt: skip
    return rows


def add_jobs(scheduler, store, gifts: list[tuple[str, datetime]]) -> float:
    """Put one job per gift in the job store; returns seconds taken."""
    started = time.perf_counter()
    for start in range(0, len(gifts), CHUNK):
        rows = job_rows(scheduler, store, gifts[start : start + CHUNK])
        with store.engine.begin() as connection:
            connection.execute(store.jobs_t.insert(), rows)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--threads", type=int, default=10, help="APScheduler's pool (default)")
    args = parser.parse_args(argv)

    from service import create_app

    # Jobs name this module by its import path, which is not `__main__`: give that copy the app.
    importlib.import_module("bench.apscheduler_baseline")._apps.append(create_app())
    engine = gift_rows.engine_for(args.database_url)
    store = SQLAlchemyJobStore(engine=gift_rows.engine_for(args.database_url))
    scheduler = BackgroundScheduler(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(args.threads)},
        job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
        timezone=UTC,
    )
    scheduler.start(paused=True)
    later = gift_rows.scheduled_gifts(engine)
    parked = [gift_id for gift_id, due in later if due == gift_rows.PARKED_AT]
    later = [(gift_id, due) for gift_id, due in later if due != gift_rows.PARKED_AT]
    later_seconds = add_jobs(scheduler, store, later)
    # Schedule the burst far enough ahead that all its jobs are stored before it falls due.
    per_job = later_seconds / len(later) if later else 0.0002
    due_at = datetime.now(UTC) + timedelta(seconds=2 + 1.5 * per_job * len(parked))
    gift_rows.release(engine, due_at)
    burst_seconds = add_jobs(scheduler, store, [(gift_id, due_at) for gift_id in parked])
    stored_late = datetime.now(UTC) > due_at
    scheduler.resume()
    report = {"due_at": due_at.isoformat(), "burst_jobs": len(parked), "later_jobs": len(later),
              "seconds_to_store": round(later_seconds + burst_seconds, 2),
              "stored_after_due": stored_late}  # fmt: skip
    print("READY " + json.dumps(report), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    scheduler.shutdown(wait=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
