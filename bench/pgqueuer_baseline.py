"""The queue baselines: the same burst as deferred PgQueuer jobs, with and without the gift work.

PgQueuer (PyPI `pgqueuer`, asyncpg driver, its fastest) keeps jobs in its own table on the same
database; the bench enqueues one job per gift, deferred (`execute_after`) to the burst's instant,
and starts W worker processes of this module:

- `--mode gifts`: each job calls `send_gift_if_due(gift id)` (the same one-gift sending function
  as the APScheduler baseline, in one transaction of its own) on a thread (`asyncio.to_thread`,
  since the function is blocking), as a user would build gift sending on PgQueuer;
- `--mode empty`: each job does nothing, so the figure is what the queue alone reaches here.

The parent (`bench/scheduler.py`) installs PgQueuer's schema, enqueues and measures: gifts from
the gift rows as for Minifin, empty jobs by counting PgQueuer's queue down to zero.
Protocol: one line `READY` on stdout once the worker listens; it runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ENTRYPOINT = {"gifts": "send_gift", "empty": "nothing"}
CHUNK = 5000


def asyncpg_dsn(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://")


async def install(database_url: str) -> None:
    """PgQueuer's tables, functions and trigger in the bench's database."""
    import asyncpg
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.queries import Queries

    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await Queries(AsyncpgDriver(connection)).install()
    finally:
        await connection.close()


async def enqueue(database_url: str, mode: str, payloads: list[str], due_at: datetime) -> None:
    """One job per payload, deferred until `due_at`, in bulk (chunks of CHUNK)."""
    import asyncpg
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.queries import Queries

    from service.dbtypes import utcnow

    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        queries = Queries(AsyncpgDriver(connection))
        for start in range(0, len(payloads), CHUNK):
            chunk = payloads[start : start + CHUNK]
            delay = max(timedelta(0), due_at - utcnow())
            await queries.enqueue(
                [ENTRYPOINT[mode]] * len(chunk), [p.encode() for p in chunk], [0] * len(chunk),
                execute_after=[delay] * len(chunk),
            )  # fmt: skip
    finally:
        await connection.close()


async def queued(database_url: str) -> int:
    """Jobs not yet finished (queued or picked)."""
    import asyncpg

    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return await connection.fetchval("SELECT count(*) FROM pgqueuer")
    finally:
        await connection.close()


def send_gift_job(app, gift_id: str) -> None:
    """One job's work: send this gift, exactly as the APScheduler baseline does."""
    from service.extensions import db
    from service.gifting.sending import send_gift_if_due

    with app.app_context():
        try:
            send_gift_if_due(gift_id)
        finally:
            db.session.remove()


async def work(args: argparse.Namespace) -> None:
    import asyncpg
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.models import Job
    from pgqueuer.qm import QueueManager
    from pgqueuer.queries import Queries

    connection = await asyncpg.connect(asyncpg_dsn(args.database_url))
    manager = QueueManager(Queries(AsyncpgDriver(connection)))
    if args.mode == "gifts":
        from service.app import create_app

        app = create_app()

        @manager.entrypoint(ENTRYPOINT["gifts"])
        async def send(job: Job) -> None:
            await asyncio.to_thread(send_gift_job, app, (job.payload or b"").decode())

    else:

        @manager.entrypoint(ENTRYPOINT["empty"])
        async def nothing(job: Job) -> None:
            return None

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, manager.shutdown.set)
    print("READY", flush=True)
    await manager.run(batch_size=args.batch_size, dequeue_timeout=timedelta(seconds=1))
    await connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--mode", choices=tuple(ENTRYPOINT), required=True)
    parser.add_argument("--batch-size", type=int, default=10)
    asyncio.run(work(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
