"""Does one dead webhook endpoint slow the others down?

A burst of events (10 000 by default) is recorded, in batches committed one after another, for
three endpoints subscribed to everything, each a receiver on a loopback port in this process;
two real `minifin worker --source webhook_fanout --source webhook_deliveries` processes deliver
them. Measured twice, each on a database of its own: with the third endpoint dead throughout
(it accepts the connection and never answers, so every attempt waits for
`MINIFIN_WEBHOOK_TIMEOUT_SECONDS`), and with all three healthy. Printed for each: deliveries per
second to the two healthy endpoints (from the first commit to the last delivery seen) and the
p50/p99 time from an event's commit to its first delivery; then the ratio of the rates (target:
the dead endpoint costs the others less than 20 %, a ratio ≥ 0.8).

Run from the repository root: `python bench/webhooks.py [--database postgresql] [--events N]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/webhooks.py`
    sys.path.insert(0, str(ROOT))

from bench import HOST, BenchFailed, progress  # noqa: E402
from bench import instance as minifin_instance  # noqa: E402
from bench.servers import start_process, stop_process, tail  # noqa: E402

TARGET_RATIO = 0.8
BATCH = 500  # events per committed transaction of the burst


class Receiver:
    """A keep-alive HTTP server recording when each webhook-id first arrived; or a dead one."""

    def __init__(self, dead: bool = False):
        self.first_seen: dict[str, float] = {}
        self.requests = 0
        self._stop = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.requests += 1
                if dead:
                    receiver._stop.wait()  # never answers: the sender times out
                    return
                receiver.first_seen.setdefault(self.headers["webhook-id"], time.time())
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{HOST}:{self._server.server_port}/hooks"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Burst:
    """One burst delivered: the healthy endpoints' rate and commit-to-delivery times."""

    scenario: str
    events: int
    healthy_deliveries: int
    seconds: float
    per_second: float
    p50: float
    p99: float
    dead_endpoint_requests: int


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=minifin_instance.DEFAULT_POSTGRES_URL)
    parser.add_argument("--events", type=int, default=10_000, help="events in the burst")
    parser.add_argument("--workers", type=int, default=2, help="minifin worker processes")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="MINIFIN_WEBHOOK_TIMEOUT_SECONDS")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)
    if min(args.events, args.workers) < 1:
        parser.error("--events, --workers: at least 1")
    return args


def quantile(ordered: list[float], q: float) -> float:
    return ordered[max(0, int(q * len(ordered) + 0.999999) - 1)] if ordered else 0.0


def burst(stack: contextlib.ExitStack, args: argparse.Namespace, tmp: Path, dead: bool) -> Burst:
    """Record the burst for three endpoints (one dead, or none) and wait for the healthy ones."""
    name = "one-dead" if dead else "all-healthy"
    folder = tmp / name
    folder.mkdir()
    url = minifin_instance.database_url(stack, args.database, folder, args.postgres_url)
    env = minifin_instance.child_env({
        "MINIFIN_PROFILE": "dev", "MINIFIN_INSTANCE_DIR": str(tmp / "instance"),
        "MINIFIN_DATABASE_URL": url, "MINIFIN_LOG_LEVEL": "WARNING",
        "MINIFIN_WEBHOOK_TIMEOUT_SECONDS": str(args.timeout), "PYTHONPATH": str(ROOT),
    })  # fmt: skip
    minifin_instance.prepare_instance(env)
    healthy = [Receiver(), Receiver()]
    third = Receiver(dead=dead)
    for receiver in (*healthy, third):
        stack.callback(receiver.stop)
    from service import create_app
    from service.extensions import db

    app = create_app(env)
    with app.app_context():
        from service.webhooks.endpoints import create_endpoint

        for receiver in (*healthy, third):
            create_endpoint({"url": receiver.url, "enabled_events": ["*"]})
    workers = []
    for number in range(args.workers):
        log = folder / f"worker-{number}.log"
        argv = [sys.executable, "-m", "service.cli", "worker", "--source", "webhook_fanout",
                "--source", "webhook_deliveries", "--summary-every", "3600"]  # fmt: skip
        process = start_process(argv, {**env, "MINIFIN_LOG_LEVEL": "INFO"}, log)
        stack.callback(stop_process, process)
        workers.append((process, log))
    for process, log in workers:
        _wait_for_line(process, log, "started (sources:")
    progress(f"{name}: recording {args.events} events for 3 endpoints, {args.workers} workers")
    committed = _record_burst(app, db, args.events)
    expected = len(healthy) * args.events
    deadline = time.monotonic() + max(120.0, args.events / 10)
    while sum(len(r.first_seen) for r in healthy) < expected:
        if time.monotonic() > deadline:
            got = sum(len(r.first_seen) for r in healthy)
            raise BenchFailed(f"{name}: {got} of {expected} delivered\n{tail(workers[0][1])}")
        for process, log in workers:
            if process.poll() is not None:
                raise BenchFailed(f"a worker exited ({process.returncode})\n{tail(log)}")
        time.sleep(0.05)
    with app.app_context():
        db.engine.dispose()
    delays = sorted(
        seen - committed[event_id] for r in healthy for event_id, seen in r.first_seen.items()
    )
    last = max(max(r.first_seen.values()) for r in healthy)
    seconds = last - min(committed.values())
    return Burst(name, args.events, expected, round(seconds, 2), round(expected / seconds, 1),
                 round(quantile(delays, 0.5), 3), round(quantile(delays, 0.99), 3),
                 third.requests if dead else 0)  # fmt: skip


def _record_burst(app, db, events: int) -> dict[str, float]:
    """The events, in transactions of BATCH, and when each committed."""
    from service.events.log import NewEvent, record_many

    committed: dict[str, float] = {}
    with app.app_context():
        for start in range(0, events, BATCH):
            ids = record_many(
                NewEvent("gift.sent", "gift", f"gft_bench{n}", {"id": f"gft_bench{n}"})
                for n in range(start, min(events, start + BATCH))
            )
            db.session.commit()
            now = time.time()
            committed.update(dict.fromkeys(ids, now))
    return committed


def _wait_for_line(process, log: Path, needle: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if needle in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            raise BenchFailed(f"worker exited ({process.returncode})\n{tail(log)}")
        time.sleep(0.05)
    raise BenchFailed(f"no {needle!r} from a worker in {seconds:.0f}s\n{tail(log)}")


def report(runs: list[Burst], args: argparse.Namespace) -> None:
    ratio = runs[0].per_second / runs[1].per_second
    if args.json:
        print(json.dumps({"runs": [asdict(r) for r in runs], "ratio": round(ratio, 3),
                          "target": TARGET_RATIO}, indent=2))  # fmt: skip
        return
    print(f"webhooks: {args.events} events, 3 endpoints, {args.workers} workers, "
          f"{args.database}, timeout {args.timeout:g}s")  # fmt: skip
    for run in runs:
        print(f"  {run.scenario:<12} {run.per_second:>8.1f} deliveries/s to the healthy "
              f"endpoints ({run.healthy_deliveries} in {run.seconds:.1f}s), commit→delivery "
              f"p50 {run.p50:.3f}s p99 {run.p99:.3f}s"
              + (f", dead endpoint tried {run.dead_endpoint_requests}×" if run.scenario ==
                 "one-dead" else ""))  # fmt: skip
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"  ratio one-dead / all-healthy: {ratio:.2f} (target ≥ {TARGET_RATIO}: {verdict})")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="minifin-bench-webhooks-") as folder:
            runs = []
            for dead in (True, False):
                with contextlib.ExitStack() as stack:
                    runs.append(burst(stack, args, Path(folder), dead))
                progress(f"{runs[-1].scenario}: {runs[-1].per_second} deliveries/s")
            report(runs, args)
    except BenchFailed as failure:
        print(f"bench failed: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
