"""Where a sent gift's time goes: Python CPU, statements (round trips) and the commit, per gift.

Runs the sending code in this process on a throw-away database seeded with due gifts, with no
queue around it, and splits the wall time of each call into what the database connection was
busy with (every statement and the commit, timed around the driver's calls by SQLAlchemy's
cursor events) and what remains (Python: building rows, codes, seals, blind indexes, JSON, the
ORM/Core compile). Two paths:

- batch: `send_due_gifts(worker, --batch-size)` until the burst is drained (what a worker does);
- one: `send_gift_if_due(gift_id)` for each gift of a smaller burst (a gift due the moment it is
  paid, a retry, a repair, and what the per-gift baselines call).

`--pyinstrument FILE` also writes a pyinstrument text profile of the batch path. Run from the
repository root: `python bench/profile_sending.py [--database postgresql]`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench import gift_rows as rows  # noqa: E402
from bench import instance as minifin_instance  # noqa: E402


class StatementClock:
    """Wall time spent inside the driver, per statement kind, via SQLAlchemy's cursor events."""

    def __init__(self, engine):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._started = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "commit", self._commit_before)
        self._commit_started: float | None = None
        self._engine = engine

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._started = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        words = statement.split()
        kind = " ".join(words[:3]) if words else "?"
        self.seconds[kind] += time.perf_counter() - self._started
        self.calls[kind] += 1

    def _commit_before(self, conn):
        self._commit_started = time.perf_counter()

    def after_commit(self, session) -> None:
        """Session event: the connection's COMMIT (started in `_commit_before`) has returned."""
        if self._commit_started is not None:
            self.seconds["COMMIT"] += time.perf_counter() - self._commit_started
            self.calls["COMMIT"] += 1
            self._commit_started = None

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()

    def total(self) -> float:
        return sum(self.seconds.values())


def report(name: str, gifts: int, wall: float, cpu: float, clock: StatementClock) -> dict:
    database = clock.total()
    calls = sum(clock.calls.values())
    print(f"\n{name}: {gifts} gifts in {wall:.2f}s = {gifts / wall:,.0f} gifts/s (one process)")
    print(f"  per gift: wall {wall / gifts * 1e3:.3f} ms, Python CPU {cpu / gifts * 1e3:.3f} ms,"
          f" in the driver (statements + commit) {database / gifts * 1e3:.3f} ms,"
          f" {calls / gifts:.2f} round trips")  # fmt: skip
    for kind, seconds in sorted(clock.seconds.items(), key=lambda kv: -kv[1]):
        print(f"    {kind:<40} {clock.calls[kind]:>6} calls {seconds / gifts * 1e3:8.3f} ms/gift")
    return {
        "gifts": gifts,
        "wall_s": wall,
        "cpu_ms_per_gift": cpu / gifts * 1e3,
        "driver_ms_per_gift": database / gifts * 1e3,
        "round_trips_per_gift": calls / gifts,
    }


def start_profiler(args: argparse.Namespace):
    if not args.pyinstrument:
        return None
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    return profiler


def stop_profiler(profiler, args: argparse.Namespace, path: str) -> None:
    if profiler is not None:
        profiler.stop()
        Path(f"{args.pyinstrument}-{path}.txt").write_text(profiler.output_text(show_all=False))


def run(args: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack) -> dict:
    url = minifin_instance.database_url(stack, args.database, tmp, args.postgres_url)
    env = {"MINIFIN_PROFILE": "dev", "MINIFIN_INSTANCE_DIR": str(tmp / "instance"),
           "MINIFIN_DATABASE_URL": url, "MINIFIN_LOG_LEVEL": "WARNING"}  # fmt: skip
    minifin_instance.prepare_instance(env)
    engine = rows.engine_for(url)
    stack.callback(engine.dispose)
    parties = rows.seed_parties(engine)
    rows.seed_gifts(engine, parties, args.gifts + args.one, rows.utcnow(), rows.timedelta(0))

    from service.app import create_app
    from service.extensions import db
    from service.gifting import sending

    app = create_app(env)
    results = {}
    with app.app_context():
        clock = StatementClock(db.engine)
        session = db.session
        event.listen(session, "after_commit", clock.after_commit)
        ids = [gift_id for gift_id, _ in rows.scheduled_gifts(engine)][: args.one]
        sending.send_gift_if_due(ids[0])  # warm: compiled caches, connection, keys
        clock.reset()
        profiler = start_profiler(args)
        cpu, wall, times = time.process_time(), time.perf_counter(), os.times()
        for gift_id in ids[1:]:
            sending.send_gift_if_due(gift_id)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        stop_profiler(profiler, args, "one")
        after = os.times()
        print(
            f"one-gift user {(after.user - times.user) / len(ids) * 1e3:.3f} ms, "
            f"system {(after.system - times.system) / len(ids) * 1e3:.3f} ms per gift"
        )
        results["one"] = report("one-gift path (send_gift_if_due)", len(ids) - 1, wall, cpu, clock)

        profiler = start_profiler(args)
        clock.reset()
        sent = 0
        cpu, wall = time.process_time(), time.perf_counter()
        while (count := sending.send_due_gifts("profile", args.batch_size)) > 0:
            sent += count
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        stop_profiler(profiler, args, "batch")
        results["batch"] = report(f"batch path (send_due_gifts, {args.batch_size} a batch)",
                                  sent, wall, cpu, clock)  # fmt: skip
        session.remove()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=minifin_instance.DEFAULT_POSTGRES_URL)
    parser.add_argument("--gifts", type=int, default=10_000, help="batch path's gifts")
    parser.add_argument("--one", type=int, default=1_000, help="one-gift path's gifts")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--pyinstrument", metavar="PREFIX", help="pyinstrument profiles: PREFIX-one.txt, -batch.txt"
    )
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="minifin-profile-") as directory,
        contextlib.ExitStack() as stack,
    ):
        run(args, Path(directory), stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
