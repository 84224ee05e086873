"""How fast does Minifin send due gifts, how late, and with how much worker memory?

Absolute figures depend on the machine, so the burst is also fired, in the same run and on the
same database engine, by the usual alternative: APScheduler 3's BackgroundScheduler with its
SQLAlchemy job store, one date-triggered job per gift, each doing the same database work as
Minifin sending that gift (`bench/apscheduler_baseline.py`). Three measurements (`--mode`):

- burst: N gifts fall due at one instant (plus `--later` gifts due from tomorrow on, which must
  not slow anything down); W `minifin worker --source due_gifts` processes drain them. Printed:
  the drain rate (gifts sent per second, from the instant they fell due to the last one's own
  `sent_at`), p50/p99/max lateness (`sent_at − send_at`), peak worker memory
  (VmHWM), the CPU a gift costs in the workers and in the database server
  (`bench/server_cpu.py`), then the same for APScheduler and the ratio of the rates (target
  ≥ 10).
- memory: peak worker memory with 10 000 and with 1 000 000 gifts scheduled (and a few
  thousand due, so the worker works); the target is flat (the ratio within 10 %).
- steady: a feeder inserts gifts at `--rate` (1 000) per second for `--duration` (60) s, each
  due `--lead` (1) s after it is bought, while W workers run; printed: p50/p99/max lateness
  (target p99 ≤ 1 s).

Each measurement gets a database of its own, migrated by the real migrations: SQLite in a
temporary directory, or with `--database postgresql` a database created for it on the server at
`--postgres-url` and dropped at the end. Workers are real `minifin worker` processes; the bench
process seeds rows in bulk (`bench/gift_rows.py`) and reads every figure back from the rows.
Message delivery (the outbox, bound by the gateway) is not part of the figures: the workers run
only the due-gift source, and each send queues its message as an outbox row.

Run from the repository root: `python bench/scheduler.py [--database postgresql] [--mode all]`
(APScheduler comes with `pip install -e ".[bench]"`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as `python bench/scheduler.py`, only bench/ is on the path: make bench and service importable.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import BenchFailed, progress  # noqa: E402
from bench import gift_rows as rows  # noqa: E402
from bench import instance as minifin_instance  # noqa: E402
from bench.server_cpu import WORKER_APP_NAME, ServerCpu  # noqa: E402
from bench.server_wal import WalMeter  # noqa: E402
from bench.servers import group_cpu_seconds, start_process, stop_process, tail  # noqa: E402

DEFAULT_GIFTS = {"postgresql": 100_000, "sqlite": 20_000}
TARGET_RATIO, TARGET_P99, TARGET_MEMORY_RATIO = 10.0, 1.0, 1.10
TARGET_RATE, TARGET_BURST_P99, TARGET_SQLITE_RATE = 8_000, 12.5, 5_000
TARGET_ONE_GIFT_MS, TARGET_EVENTS_OVERHEAD = 1.0, 0.15
RELEASE_LEAD = 3.0  # seconds between releasing a burst and its falling due, plus:
RELEASE_PER_GIFT = 1 / 5000  # releasing 100 000 gifts took up to 18 s on a loaded machine
LATER_SPREAD = timedelta(days=30)


@dataclass
class Drain:
    """One scheduler draining one burst."""

    gifts: int
    seconds: float
    per_second: float
    p50: float
    p99: float
    worst: float
    peak_rss_mib: float
    note: str = ""
    # CPU microseconds a gift: Minifin's workers, the database server's work for them (None
    # when unknown: a server on another machine, or SQLite, which works inside the workers).
    workers_cpu_us: float | None = None
    database_cpu_us: float | None = None
    # PostgreSQL: WAL bytes a gift, and checkpoints that started during the drain (server_wal).
    wal_bytes: float | None = None
    checkpoints: int | None = None

    def cpu_us(self) -> float | None:
        """All the CPU a gift costs, when both shares are known (SQLite: the workers')."""
        if self.workers_cpu_us is None:
            return None
        return self.workers_cpu_us + (self.database_cpu_us or 0.0)


@dataclass
class Run:
    """What one measurement needs: its database, the variables of its processes, its folder."""

    database_url: str
    env: dict[str, str]
    folder: Path
    engine: object
    parties: rows.Parties


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=minifin_instance.DEFAULT_POSTGRES_URL)
    parser.add_argument("--mode", choices=("burst", "memory", "steady", "all"), default="all")
    parser.add_argument("--gifts", type=int, help="burst size (100000 PostgreSQL, 20000 SQLite)")
    parser.add_argument("--later", type=int, help="gifts due later (default: as many as --gifts)")
    parser.add_argument("--baseline-gifts", type=int,
                        help="APScheduler's burst (default: --gifts, at most 2000)")  # fmt: skip
    parser.add_argument("--workers", default="2",
                        help="minifin worker processes, or 'auto' (one per CPU core)")  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=500, help="gifts per worker batch")
    parser.add_argument("--threads", type=int, default=10, help="APScheduler's thread pool")
    parser.add_argument("--memory-counts", default="10000,1000000",
                        help="scheduled gifts for the memory comparison")  # fmt: skip
    parser.add_argument("--rate", type=float, default=1000.0, help="steady gifts per second")
    parser.add_argument("--duration", type=float, default=60.0, help="steady feed, seconds")
    parser.add_argument("--lead", type=float, default=1.0,
                        help="steady: seconds between buying a gift and its send_at")  # fmt: skip
    parser.add_argument("--pgqueuer-gifts", type=int, default=3000,
                        help="PgQueuer's burst when each job sends a gift")  # fmt: skip
    parser.add_argument("--pgqueuer-batch-size", type=int, default=100,
                        help="PgQueuer's dequeue batch size")  # fmt: skip
    parser.add_argument("--warm-up-rounds", type=int, default=6,
                        help="batches a worker sends before each Minifin burst (0: none)")
    parser.add_argument("--events-gifts", type=int, default=20_000,
                        help="burst of the events overhead's alternated runs")  # fmt: skip
    parser.add_argument("--events-rounds", type=int, default=5,
                        help="events overhead rounds (a burst with, a burst without)")  # fmt: skip
    parser.add_argument("--one-gifts", type=int, default=1000,
                        help="gifts sent one at a time for the one-gift path's CPU")  # fmt: skip
    parser.add_argument("--baselines", default="pgqueuer,floor,apscheduler,events,one",
                        help="which comparisons the burst mode runs (comma-separated)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)
    args.gifts = args.gifts or DEFAULT_GIFTS[args.database]
    args.later = args.gifts if args.later is None else args.later
    args.baseline_gifts = args.baseline_gifts or min(args.gifts, 2000)
    args.memory_counts = [int(n) for n in args.memory_counts.split(",")]
    args.workers = (os.cpu_count() or 2) if args.workers == "auto" else int(args.workers)
    args.baselines = set(filter(None, args.baselines.split(",")))
    if min(args.gifts, args.workers, args.batch_size, args.threads, args.baseline_gifts) < 1:
        parser.error("--gifts, --workers, --batch-size, --threads, --baseline-gifts: at least 1")
    return args


# --- runs ------------------------------------------------------------------------------------


def new_run(stack: contextlib.ExitStack, args: argparse.Namespace, tmp: Path, name: str) -> Run:
    """A migrated database of its own, the shared instance keys, the template and people."""
    folder = tmp / name
    folder.mkdir()
    url = minifin_instance.database_url(stack, args.database, folder, args.postgres_url)
    env = minifin_instance.child_env({
        "MINIFIN_PROFILE": "dev", "MINIFIN_INSTANCE_DIR": str(tmp / "instance"),
        "MINIFIN_DATABASE_URL": url, "MINIFIN_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    })  # fmt: skip
    minifin_instance.prepare_instance(env)
    engine = rows.engine_for(url)
    stack.callback(engine.dispose)
    return Run(url, env, folder, engine, rows.seed_parties(engine))


def seed(run: Run, burst: int, later: int, warming: int = 0) -> None:
    """`later` gifts due over the month from tomorrow, `burst` gifts parked until released,
    and `warming` parked for the workers' warm-up."""
    seconds = rows.seed_gifts(
        run.engine, run.parties, later, rows.utcnow() + rows.LATER_FROM, LATER_SPREAD
    )
    seconds += rows.seed_gifts(run.engine, run.parties, warming, rows.WARMING_AT, timedelta(0))
    seconds += rows.seed_gifts(run.engine, run.parties, burst, rows.PARKED_AT, timedelta(0))
    progress(f"seeded {burst} + {later} gifts (and {warming} to warm up) in {seconds:.1f}s")


def warm_up(run: Run, args: argparse.Namespace) -> int:
    """`--warm-up-rounds` rounds of one batch a worker, each due at once and waited for, before
    a burst is released; returns the gifts they sent.

    Workers are started afresh for each burst, and a fresh worker's first batches are its
    slowest: its first ran 0.3–0.6 s against 0.15–0.2 s for the next, and psycopg prepares a
    statement only on its fifth execution (`prepare_threshold`), so a 40-batch burst had a
    quarter of its batches unprepared, more work for the larger statements with the events
    than without. In production a worker runs for days; warmed up, the burst measures that.
    """
    per_round = args.batch_size * args.workers
    sent = 0
    for _ in range(args.warm_up_rounds):
        sent += rows.release(run.engine, rows.utcnow(), rows.WARMING_AT, per_round)[0]
        rows.wait_until_sent(run.engine, sent, drain_timeout(per_round))
    return sent


def start_workers(
    stack: contextlib.ExitStack, run: Run, args: argparse.Namespace, events: bool = True
) -> list:
    """W `minifin worker --source due_gifts` processes, each started and listening.

    With `events=False` the workers are the same command with the event log's insert replaced
    by nothing (`bench/worker_launcher.py`), for the events' overhead.
    """
    workers = []
    command = "service.cli" if events else "bench.worker_launcher"
    for number in range(args.workers):
        log = run.folder / f"worker-{number}.log"
        argv = [sys.executable, "-m", command, "worker", "--source", "due_gifts",
                "--batch-size", str(args.batch_size), "--summary-every", "3600"]  # fmt: skip
        env = {**run.env, "MINIFIN_LOG_LEVEL": "INFO", "PGAPPNAME": WORKER_APP_NAME}
        process = start_process(argv, env, log)
        stack.callback(stop_process, process)
        workers.append((process, log))
    for process, log in workers:
        wait_for_line(process, log, "started (sources:")
    return [process for process, _ in workers]


def wait_for_line(process, log: Path, needle: str, seconds: float = 60) -> str:
    """Wait until a child's log has a line containing `needle`; returns that line."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if needle in line:
                return line
        if process.poll() is not None:
            raise BenchFailed(f"{process.args[:4]} exited ({process.returncode})\n{tail(log)}")
        time.sleep(0.05)
    raise BenchFailed(f"no {needle!r} from {process.args[:4]} in {seconds:.0f}s\n{tail(log)}")


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise BenchFailed(f"no VmHWM for process {pid}")


def drain_timeout(gifts: int) -> float:
    return max(120.0, gifts / 20)


def drained(run: Run, gifts: int, due_at: datetime, seen_at: float, rss: float) -> Drain:
    """The figures of a finished burst, read back from the gifts."""
    late = rows.lateness(run.engine, since=due_at)
    if late.count != gifts:
        raise BenchFailed(f"{late.count} gifts of the burst sent, expected {gifts}")
    # From the instant due to the last gift's own send time, not to when the bench's poll saw
    # the burst done: the poll's period and its count's time moved a short burst's rate by
    # several per cent either way.
    seconds = late.worst if late.worst > 0 else seen_at - due_at.timestamp()
    return Drain(gifts, round(seconds, 2), round(gifts / seconds, 1), round(late.p50, 3),
                 round(late.p99, 3), round(late.worst, 3), round(rss, 1))  # fmt: skip


def burst_minifin(
    stack: contextlib.ExitStack,
    args: argparse.Namespace,
    tmp: Path,
    events: bool = True,
    gifts: int | None = None,
    name: str = "burst-minifin",
) -> Drain:
    """W Minifin workers drain a burst of gifts due at one instant."""
    gifts = gifts or args.gifts
    run = new_run(stack, args, tmp, name)
    seed(run, gifts, args.later, args.warm_up_rounds * args.batch_size * args.workers)
    workers = start_workers(stack, run, args, events)
    warmed = warm_up(run, args)
    lead = RELEASE_LEAD + gifts * RELEASE_PER_GIFT
    due_at = rows.utcnow() + timedelta(seconds=lead)
    released, took = rows.release(run.engine, due_at)
    note = "" if took < lead else f"released {took - lead:.1f}s after due"
    progress(f"Minifin: {released} gifts due at {due_at:%H:%M:%S.%f}, {args.workers} workers")
    # CPU from here: the workers wait for the instant due, then send the burst and nothing else.
    server, workers_cpu = ServerCpu(run.engine), sum(map(group_cpu_seconds, workers))
    wal = WalMeter(run.engine)
    server.begin()
    wal.begin()
    seen_at = rows.wait_until_sent(run.engine, warmed + gifts, drain_timeout(gifts))
    workers_cpu = sum(map(group_cpu_seconds, workers)) - workers_cpu
    database_cpu = server.seconds()
    written = wal.end()
    rss = max(peak_rss_mib(worker.pid) for worker in workers)
    result = drained(run, gifts, due_at, seen_at, rss)
    result.note = note
    result.workers_cpu_us = round(workers_cpu / gifts * 1e6, 1)
    result.database_cpu_us = None if database_cpu is None else round(database_cpu / gifts * 1e6, 1)
    if written is not None:
        result.wal_bytes, result.checkpoints = round(written.bytes / gifts), written.checkpoints
    return result


def events_overhead(stack: contextlib.ExitStack, args: argparse.Namespace, tmp: Path) -> dict:
    """`--events-rounds` rounds of two bursts of `--events-gifts`, one with the events insert
    and one without, the order swapped from one round to the next; a round's overhead compares
    its two rates, and the figure is the median round's.

    A burst lasts a few seconds, and on a shared machine one that lands on a busy moment drains
    up to a quarter slower: compared within its round and taken as a median, such a burst moves
    the figure less than a mean of all the rates would (that is printed too). The same is done
    for the CPU a gift costs (workers and database, `bench/server_cpu.py`), which moves far less
    with the machine's other work than the rate does.
    """
    rates: dict[str, list[float]] = {"with": [], "without": []}
    cpu: dict[str, list[float]] = {"with": [], "without": []}
    rounds: list[float] = []
    cpu_rounds: list[float] = []
    for round_ in range(args.events_rounds):
        order = (("with", True), ("without", False))
        measured = {}
        for label, events in order if round_ % 2 == 0 else order[::-1]:
            with contextlib.ExitStack() as inner:
                drain = burst_minifin(inner, args, tmp, events, args.events_gifts,
                                      f"events-{label}-{round_}")  # fmt: skip
            measured[label] = drain.per_second
            rates[label].append(drain.per_second)
            if (used := drain.cpu_us()) is not None:
                cpu[label].append(used)
        rounds.append(round(measured["without"] / measured["with"] - 1, 3))
        if len(cpu["with"]) == len(cpu["without"]) == round_ + 1:
            cpu_rounds.append(round(cpu["with"][-1] / cpu["without"][-1] - 1, 3))
    with_, without = (sum(rates[label]) / len(rates[label]) for label in ("with", "without"))
    return {"gifts": args.events_gifts, "with": rates["with"], "without": rates["without"],
            "rounds": rounds, "overhead": round(statistics.median(rounds), 3),
            "overhead_of_means": round(without / with_ - 1, 3),
            "cpu_with_us": cpu["with"], "cpu_without_us": cpu["without"],
            "cpu_rounds": cpu_rounds,
            "cpu_overhead": round(statistics.median(cpu_rounds), 3) if cpu_rounds else None,
            }  # fmt: skip


def burst_apscheduler(stack: contextlib.ExitStack, args: argparse.Namespace, tmp: Path) -> Drain:
    """APScheduler 3 (SQLAlchemy job store, same database) fires the same kind of burst."""
    run = new_run(stack, args, tmp, "burst-apscheduler")
    seed(run, args.baseline_gifts, args.later)
    log = run.folder / "apscheduler.log"
    argv = [sys.executable, "-m", "bench.apscheduler_baseline", "--database-url",
            run.database_url, "--threads", str(args.threads)]  # fmt: skip
    process = start_process(argv, run.env, log)
    stack.callback(stop_process, process)
    ready = json.loads(wait_for_line(process, log, "READY ", seconds=600).split("READY ", 1)[1])
    due_at = datetime.fromisoformat(ready["due_at"])
    progress(f"APScheduler: {ready['burst_jobs']} + {ready['later_jobs']} jobs stored in "
             f"{ready['seconds_to_store']}s, the burst due at {due_at:%H:%M:%S.%f}")  # fmt: skip
    try:
        seen_at = rows.wait_until_sent(
            run.engine, args.baseline_gifts, drain_timeout(args.gifts) * 5
        )
    except TimeoutError as exc:
        raise BenchFailed(f"APScheduler: {exc}\n{tail(log, 40)}") from exc
    result = drained(run, args.baseline_gifts, due_at, seen_at, peak_rss_mib(process.pid))
    result.note = "stored after due" if ready["stored_after_due"] else ""
    return result


def burst_pgqueuer(
    stack: contextlib.ExitStack, args: argparse.Namespace, tmp: Path, mode: str
) -> Drain:
    """PgQueuer: one deferred job per gift, sending it (`gifts`) or doing nothing (`empty`)."""
    import asyncio

    from bench import pgqueuer_baseline as pgq

    gifts = args.pgqueuer_gifts if mode == "gifts" else args.gifts
    run = new_run(stack, args, tmp, f"burst-pgqueuer-{mode}")
    seed(run, gifts if mode == "gifts" else 0, args.later)
    asyncio.run(pgq.install(run.database_url))
    workers = []
    for number in range(args.workers):
        log = run.folder / f"pgqueuer-{number}.log"
        argv = [sys.executable, "-m", "bench.pgqueuer_baseline", "--database-url",
                run.database_url, "--mode", mode,
                "--batch-size", str(args.pgqueuer_batch_size)]  # fmt: skip
        process = start_process(argv, run.env, log)
        stack.callback(stop_process, process)
        workers.append((process, log))
    for process, log in workers:
        wait_for_line(process, log, "READY")
    due_at = rows.utcnow() + timedelta(seconds=RELEASE_LEAD + gifts * RELEASE_PER_GIFT)
    payloads = rows.parked_gift_ids(run.engine) if mode == "gifts" else [""] * gifts
    if mode == "gifts":
        rows.release(run.engine, due_at)
    asyncio.run(pgq.enqueue(run.database_url, mode, payloads, due_at))
    late = rows.utcnow() > due_at
    progress(f"PgQueuer ({mode}): {gifts} jobs due at {due_at:%H:%M:%S.%f}, {args.workers} workers")
    rss = lambda: max(peak_rss_mib(p.pid) for p, _ in workers)  # noqa: E731
    if mode == "gifts":
        seen_at = rows.wait_until_sent(run.engine, gifts, drain_timeout(gifts) * 5)
        result = drained(run, gifts, due_at, seen_at, rss())
    else:
        deadline = time.monotonic() + drain_timeout(gifts)
        while asyncio.run(pgq.queued(run.database_url)) > 0:
            if time.monotonic() > deadline:
                raise BenchFailed(f"PgQueuer: empty jobs not drained\n{tail(workers[0][1])}")
            time.sleep(0.1)
        seconds = time.time() - due_at.timestamp()
        unknown = float("nan")  # PgQueuer keeps no per-job finishing time the bench could read
        result = Drain(gifts, round(seconds, 2), round(gifts / seconds, 1), unknown, unknown,
                       unknown, round(rss(), 1), "lateness not measured")  # fmt: skip
    if late:
        result.note = (result.note + "; " if result.note else "") + "enqueued after due"
    return result


def database_floor(stack: contextlib.ExitStack, args: argparse.Namespace, tmp: Path) -> dict:
    """The batch's statements with no Python: pgbench with 2 clients, or sqlite3 in-process."""
    from bench import floor

    run = new_run(stack, args, tmp, "floor")
    seed(run, args.gifts, args.later)
    rows.release(run.engine, rows.utcnow() - timedelta(seconds=1))
    if args.database == "sqlite":
        path = run.database_url.removeprefix("sqlite:///")
        run.engine.dispose()
        rate = floor.sqlite_floor(path, args.gifts)
        return {"per_second": round(rate, 1), "how": "sqlite3, one process", "gifts": args.gifts}
    if floor.pgbench_path() is None:
        progress("pgbench not found (apt-get install -y postgresql-client): floor skipped")
        return {"per_second": None, "how": "skipped: no pgbench", "gifts": 0}
    rate = floor.pgbench_floor(run.database_url, args.gifts, run.folder, clients=2)
    sent = rows.count_sent(run.engine)
    if sent < args.gifts:
        raise BenchFailed(f"pgbench sent {sent} of {args.gifts} gifts")
    return {"per_second": round(rate, 1), "how": "pgbench -c 2 -j 2", "gifts": args.gifts}


def one_gift_path(stack: contextlib.ExitStack, args: argparse.Namespace, tmp: Path) -> dict:
    """Python CPU and wall time per gift of `send_gift_if_due`, one gift per call, no queue,
    and its floor: as many transactions of as many statements, each a `SELECT 1`, through the
    same session (what the path's round trips cost the process with no work in them)."""
    from sqlalchemy import event

    from service.app import create_app
    from service.extensions import db
    from service.gifting.sending import send_gift_if_due

    run = new_run(stack, args, tmp, "one-gift")
    count = args.one_gifts
    rows.seed_gifts(run.engine, run.parties, count + 1, rows.utcnow(), timedelta(0))
    ids = [gift_id for gift_id, _ in rows.scheduled_gifts(run.engine)]
    with contextlib.redirect_stdout(sys.stderr):
        app = create_app(run.env)
    with app.app_context():
        send_gift_if_due(ids[0])  # warm: the connection, the compiled statements, the keys
        calls: list[int] = []
        counted = lambda *_: calls.append(1)  # noqa: E731 (one entry a statement)
        event.listen(db.engine, "before_cursor_execute", counted)
        cpu, wall = time.process_time(), time.perf_counter()
        sent = sum(send_gift_if_due(gift_id) for gift_id in ids[1:])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        event.remove(db.engine, "before_cursor_execute", counted)
        statements = round(len(calls) / count)
        floor_cpu = session_floor(db.session, statements, count)
        db.session.remove()
        db.engine.dispose()
    if sent != count:
        raise BenchFailed(f"one-gift path: {sent} of {count} sent")
    return {"gifts": count, "cpu_ms": round(cpu / count * 1e3, 3),
            "wall_ms": round(wall / count * 1e3, 3), "statements": statements,
            "floor_cpu_ms": round(floor_cpu / count * 1e3, 3)}  # fmt: skip


def session_floor(session, statements: int, transactions: int) -> float:
    """CPU seconds of `transactions` transactions of `statements` × `SELECT 1` and a commit."""
    from sqlalchemy import text

    one = text("SELECT 1")
    cpu = time.process_time()
    for _ in range(transactions):
        for _ in range(statements):
            session.execute(one)
        session.commit()
    return time.process_time() - cpu


def memory(stack: contextlib.ExitStack, args: argparse.Namespace, tmp: Path) -> dict[int, float]:
    """Peak worker memory with few and with many gifts scheduled (and a few thousand due)."""
    due = 2000
    peaks = {}
    for scheduled in args.memory_counts:
        run = new_run(stack, args, tmp, f"memory-{scheduled}")
        seed(run, due, scheduled)
        with contextlib.ExitStack() as workers_stack:
            workers = start_workers(workers_stack, run, args)
            rows.release(run.engine, rows.utcnow())
            rows.wait_until_sent(run.engine, due, drain_timeout(due))
            time.sleep(3)  # some idle passes over the whole schedule too
            peaks[scheduled] = round(max(peak_rss_mib(w.pid) for w in workers), 1)
        progress(f"memory: {scheduled} scheduled -> peak worker RSS {peaks[scheduled]} MiB")
    return peaks


def steady(stack: contextlib.ExitStack, args: argparse.Namespace, tmp: Path) -> rows.Lateness:
    """A feeder buys `--rate` gifts a second, each due `--lead` s later, while W workers run."""
    run = new_run(stack, args, tmp, "steady")
    seed(run, 0, args.later)
    start_workers(stack, run, args)
    started = rows.utcnow()
    tick, fed = 0.05, 0
    progress(f"steady: {args.rate:g} gifts/s for {args.duration:g}s, due {args.lead:g}s ahead")
    began = time.monotonic()
    while (elapsed := time.monotonic() - began) < args.duration:
        batch = int(args.rate * min(elapsed + tick, args.duration)) - fed
        if batch > 0:
            rows.insert_due_gifts(
                run.engine, run.parties, rows.utcnow() + timedelta(seconds=args.lead), batch
            )
            fed += batch
        time.sleep(max(0.0, began + elapsed + tick - time.monotonic()))
    rows.wait_until_sent(run.engine, fed, drain_timeout(fed))
    return rows.lateness(run.engine, since=started)


# --- output ----------------------------------------------------------------------------------


def describe(args: argparse.Namespace) -> str:
    if args.database == "sqlite":
        return "SQLite (a file in a temporary directory per measurement)"
    return f"PostgreSQL at {args.postgres_url} (a throw-away database per measurement)"


def print_burst(burst: dict, args: argparse.Namespace) -> None:
    print(f"\nburst: gifts due at one instant, {args.later} more due over the next month")
    labels = {
        "minifin": f"Minifin, {args.workers} workers (batches of {args.batch_size})",
        "pgqueuer_empty": f"PgQueuer, empty deferred jobs, {args.workers} workers",
        "pgqueuer_gifts": f"PgQueuer, a job per gift (send_gift_if_due), {args.workers} w.",
        "apscheduler": f"APScheduler 3, SQLAlchemy job store, {args.threads} threads",
    }
    for name, label in labels.items():
        if name not in burst:
            continue
        row = burst[name]
        print(f"  {label:<58}{row['gifts']:>7} gifts {row['per_second']:>8.0f}/s  "
              f"lateness p50 {row['p50']:6.2f}s p99 {row['p99']:6.2f}s "
              f"max {row['worst']:6.2f}s  peak RSS {row['peak_rss_mib']:5.0f} MiB"
              + (f"  ({row['note']})" if row["note"] else ""))  # fmt: skip
    minifin_cpu = burst["minifin"]
    if minifin_cpu.get("workers_cpu_us") is not None:
        database = minifin_cpu.get("database_cpu_us")
        print(f"  Minifin's CPU a gift: workers {minifin_cpu['workers_cpu_us']:.0f} us, database "
              + ("(inside the workers)" if args.database == "sqlite" else
                 "unknown (server not on this machine)" if database is None else
                 f"{database:.0f} us") + f", on {os.cpu_count()} cores")  # fmt: skip
    if minifin_cpu.get("wal_bytes") is not None:
        print(f"  Minifin's WAL a gift: {minifin_cpu['wal_bytes'] / 1024:.1f} KiB; checkpoints "
              f"started during the drain: {minifin_cpu['checkpoints']}")  # fmt: skip
    if "floor" in burst:
        floor = burst["floor"]
        shown = f"{floor['per_second']:>8.0f}/s" if floor["per_second"] else "       -"
        print(f"  {'database floor: the batch statements, ' + floor['how']:<58}"
              f"{floor['gifts']:>7} gifts {shown}")  # fmt: skip
    minifin = burst["minifin"]
    checks = [
        ("drain rate", minifin["per_second"] >= TARGET_RATE, f">= {TARGET_RATE:,}/s"),
        ("p99 lateness", minifin["p99"] <= TARGET_BURST_P99, f"<= {TARGET_BURST_P99}s"),
    ]
    if args.database == "sqlite":
        checks = [("drain rate", minifin["per_second"] >= TARGET_SQLITE_RATE,
                   f">= {TARGET_SQLITE_RATE:,}/s")]  # fmt: skip
    for what, ok, target in checks:
        print(f"  Minifin {what}: target {target}  {'OK' if ok else 'BELOW TARGET'}")
    targets = {"pgqueuer_empty": 1.0, "floor": 0.7, "apscheduler": TARGET_RATIO}
    for name, ratio in burst["ratios"].items():
        goal = targets.get(name)
        verdict = (
            ""
            if goal is None
            else (f"  target >= {goal:g}x  {'OK' if ratio >= goal else 'BELOW TARGET'}")
        )
        print(f"  ratio Minifin / {name.replace('_', ' ')}: {ratio:.2f}x{verdict}")
    if "events" in burst:
        events = burst["events"]
        overhead = events["overhead"]
        verdict = "OK" if overhead < TARGET_EVENTS_OVERHEAD else "ABOVE TARGET"
        shown = lambda rates: " and ".join(f"{rate:.0f}" for rate in rates)  # noqa: E731
        print(f"  events insert overhead, {events['gifts']} gifts, {len(events['rounds'])} "
              f"rounds of one burst with and one without: {shown(events['with'])}/s with, "
              f"{shown(events['without'])}/s without; per round (rate without / rate with - 1) "
              f"{', '.join(f'{r:.1%}' for r in events['rounds'])} -> median {overhead:.1%}  "
              f"target < {TARGET_EVENTS_OVERHEAD:.0%}  {verdict}  "
              f"(of the mean rates: {events['overhead_of_means']:.1%})")  # fmt: skip
        if events.get("cpu_overhead") is not None:
            shown_us = lambda values: " and ".join(f"{v:.0f}" for v in values)  # noqa: E731
            print(f"  events' CPU a gift (workers + database): {shown_us(events['cpu_with_us'])} "
                  f"us with, {shown_us(events['cpu_without_us'])} us without; per round "
                  f"(with / without - 1) {', '.join(f'{r:.1%}' for r in events['cpu_rounds'])} "
                  f"-> median {events['cpu_overhead']:.1%}")  # fmt: skip
    if "one_gift" in burst:
        one = burst["one_gift"]
        verdict = "OK" if one["cpu_ms"] <= TARGET_ONE_GIFT_MS else "ABOVE TARGET"
        print(f"  one-gift path (send_gift_if_due, one process, no queue): {one['gifts']} gifts, "
              f"{one['cpu_ms']:.3f} ms Python CPU and {one['wall_ms']:.3f} ms wall per gift  "
              f"target <= {TARGET_ONE_GIFT_MS:g} ms CPU  {verdict}")  # fmt: skip
        print(f"  one-gift floor: {one['statements']} statements, each a SELECT 1, and a commit "
              f"through the same session: {one['floor_cpu_ms']:.3f} ms Python CPU a gift -> the "
              f"path is {one['cpu_ms'] / one['floor_cpu_ms']:.2f}x its floor")  # fmt: skip


def print_report(results: dict, args: argparse.Namespace) -> None:
    print(f"Minifin gift scheduler on {describe(args)}")
    load = results["load_average_before"]
    print(f"{os.cpu_count()} CPU cores shared by the workers, the database and the bench; "
          f"1-minute load average before the run: {load:.2f}")  # fmt: skip
    if "server" in results:
        print("PostgreSQL server: " + ", ".join(f"{name} {value}" for name, value
                                                in results["server"].items()))  # fmt: skip
    if "burst" in results:
        print_burst(results["burst"], args)
    if "memory" in results:
        peaks = results["memory"]["peak_rss_mib"]
        listed = ", ".join(f"{int(n):,} scheduled: {mib:.0f} MiB" for n, mib in peaks.items())
        ratio = results["memory"]["ratio"]
        verdict = "OK" if ratio <= TARGET_MEMORY_RATIO else "NOT FLAT"
        print(f"\nmemory: peak worker RSS with {listed}; ratio {ratio:.2f}  "
              f"target <= {TARGET_MEMORY_RATIO:.2f}  {verdict}")  # fmt: skip
    if "steady" in results:
        s = results["steady"]
        verdict = "OK" if s["p99"] <= TARGET_P99 else "ABOVE TARGET"
        print(f"\nsteady: {s['count']} gifts at {args.rate:g}/s for {args.duration:g}s, each due "
              f"{args.lead:g}s after purchase, {args.workers} workers: lateness p50 "
              f"{s['p50']:.3f}s p99 {s['p99']:.3f}s max {s['worst']:.3f}s  "
              f"target p99 <= {TARGET_P99:g}s  {verdict}")  # fmt: skip


def bursts(args: argparse.Namespace, tmp: Path) -> dict:
    """Minifin's burst and each comparison, one after the other in this run, and the ratios."""
    wanted, postgres = args.baselines, args.database == "postgresql"
    runs: list[tuple[str, Callable[[contextlib.ExitStack], Any]]] = [
        ("minifin", lambda stack: asdict(burst_minifin(stack, args, tmp)))
    ]
    if "events" in wanted:
        runs.append(("events", lambda stack: events_overhead(stack, args, tmp)))
    if "pgqueuer" in wanted and postgres:
        runs.append(
            ("pgqueuer_empty", lambda stack: asdict(burst_pgqueuer(stack, args, tmp, "empty")))
        )
        runs.append(
            ("pgqueuer_gifts", lambda stack: asdict(burst_pgqueuer(stack, args, tmp, "gifts")))
        )
    if "floor" in wanted:
        runs.append(("floor", lambda stack: database_floor(stack, args, tmp)))
    if "apscheduler" in wanted:
        runs.append(("apscheduler", lambda stack: asdict(burst_apscheduler(stack, args, tmp))))
    if "one" in wanted:
        runs.append(("one_gift", lambda stack: one_gift_path(stack, args, tmp)))
    burst: dict[str, Any] = {}
    for name, measure_one in runs:
        with contextlib.ExitStack() as stack:
            burst[name] = measure_one(stack)
    rate = burst["minifin"]["per_second"]
    burst["ratios"] = {
        name: round(rate / burst[name]["per_second"], 2)
        for name in ("pgqueuer_empty", "pgqueuer_gifts", "floor", "apscheduler")
        if name in burst and burst[name]["per_second"]
    }  # fmt: skip
    return burst


def measure(args: argparse.Namespace, tmp: Path) -> dict:
    results: dict = {"load_average_before": os.getloadavg()[0]}
    if args.database == "postgresql":
        results["server"] = minifin_instance.server_settings(args.postgres_url)
    with contextlib.redirect_stdout(sys.stderr):  # the key helpers narrate on stdout
        minifin_instance.prepare_instance(
            {"MINIFIN_PROFILE": "dev", "MINIFIN_INSTANCE_DIR": str(tmp / "instance"),
             "MINIFIN_DATABASE_URL": f"sqlite:///{tmp / 'keys-only.sqlite3'}"}
        )  # fmt: skip
    modes = ("burst", "memory", "steady") if args.mode == "all" else (args.mode,)
    if "burst" in modes:
        results["burst"] = bursts(args, tmp)
    if "memory" in modes:
        with contextlib.ExitStack() as stack:
            peaks = memory(stack, args, tmp)
        low, high = peaks[min(peaks)], peaks[max(peaks)]
        results["memory"] = {"peak_rss_mib": peaks, "ratio": round(high / low, 3)}
    if "steady" in modes:
        with contextlib.ExitStack() as stack:
            results["steady"] = asdict(steady(stack, args, tmp))
    return results


def stop_on_sigterm(signum, frame) -> None:
    """Make SIGTERM unwind like Ctrl-C, so the workers stop and the databases are dropped."""
    sys.exit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        with tempfile.TemporaryDirectory(prefix="minifin-bench-") as directory:
            results = measure(args, Path(directory))
    except (BenchFailed, TimeoutError) as exc:
        progress(f"failed: {exc}")
        return 1
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_report(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
