"""How much does Minifin's API cost next to a bare Flask app, reading and writing?

Absolute requests per second depend on the machine, so this script measures a baseline in the same
run and prints ratios. Three gunicorn servers with exactly the same worker settings: Minifin as
configured by default, serving `GET /v1/me` (JWT verification, a session check remembered per
process for MINIFIN_SESSION_CHECK_SECONDS, the user dump) and `POST /v1/gifts` (a real purchase:
the gift, its event and settle job written, `alipay.trade.create` to the mock over loopback, an
Idempotency-Key of its own per request); a second Minifin on the same instance with
MINIFIN_SESSION_CHECK_SECONDS=0, checking the session in the database on every request; and a bare
Flask app (below) serving `GET /ping` and a `POST /gifts` answering a canned 201. All are driven
the same way by `bench/loadgen.py` on 127.0.0.1, so the loopback and load-generator cost is shared
and mostly cancels out in the ratios. The project's targets are printed next to each figure. It
also times full logins, each two RSA2-signed round trips to the mock identity provider.

Why it is built this way:
- Everything real runs as in production (`bench/instance.py`): gunicorn gthread workers as
  separate processes, the mock identity provider as its own process, the database migrated by the
  real migrations — SQLite by default, or with `--database postgresql` a database created for this
  run on a PostgreSQL server and dropped at its end — so the figures include process, socket and
  database costs.
- The load generator shares the CPU cores with the servers (and PostgreSQL), which the output
  says, because on a small machine that is a large part of the picture.
- All servers stay up and the loads alternate in rounds, so a burst of other work on the machine
  hits every one of them, not one.
- It is bounded and leaves nothing behind: one temporary directory, loopback ports chosen by the
  OS, every child in its own process group (`bench/servers.py`), and the children stopped and the
  throw-away database dropped when the run ends, whether it succeeded, failed, or was interrupted.

Run from the repository root: `python bench/api.py [--duration 10] [--database postgresql]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as `python bench/api.py`, only bench/ is on the path: make bench, config, service importable.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from flask import Flask  # noqa: E402

from bench import HOST, BenchFailed, progress  # noqa: E402
from bench import instance as minifin_instance  # noqa: E402
from bench.loadgen import LoadResult, LoadShape, Post, drive, percentile  # noqa: E402
from bench.purchases import expect_created, gift_order  # noqa: E402
from bench.servers import free_port, group_cpu_seconds, gunicorn_argv, serve  # noqa: E402

# What the project aims at: req/s against bare Flask's, and a login's median.
TARGET_RATIO, TARGET_RATIO_EVERY_REQUEST, TARGET_LOGIN_P50_MS = 0.85, 0.70, 10.0
ME_PATH, PING_PATH, GIFTS_PATH, BARE_POST_PATH = "/v1/me", "/ping", "/v1/gifts", "/gifts"
LOADS = ("me", "me_every_request", "bare", "gift", "bare_post")  # the order of each round
CANNED_GIFT = {"id": "gft_bench", "status": "pending_payment", "trade_no": "2026120222001"}

bare_app = Flask(__name__)


@bare_app.get(PING_PATH)
def ping():
    """The baseline: routing and a small JSON answer, nothing else."""
    return {"status": "ok"}


@bare_app.post(BARE_POST_PATH)
def canned_gift():
    """The write path's baseline: a POST answered with a canned 201 (its body is not read)."""
    return CANNED_GIFT, 201


@dataclass
class Measured:
    """What one run measured, with the facts the report needs to label it."""

    loads: dict[str, LoadResult]
    cpu_seconds: dict[str, float]  # the serving gunicorn's CPU time during each load
    logins: list[float]
    session_check_seconds: float
    database_detail: str


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: server settings, database, load shape and output format."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--clients", type=int, default=16, help="concurrent keep-alive clients")
    parser.add_argument("--load-processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--duration", type=float, default=10.0, help="measured s per endpoint")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the three loads")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured s before each")
    parser.add_argument("--logins", type=int, default=50, help="sequential timed logins")
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql"), default="sqlite", help="Minifin's database"
    )
    parser.add_argument(
        "--postgres-url",
        default=minifin_instance.DEFAULT_POSTGRES_URL,
        help="server for --database postgresql (a throw-away database is created on it)",
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)
    if min(args.workers, args.threads, args.clients, args.load_processes, args.rounds) < 1:
        parser.error("--workers, --threads, --clients, --load-processes, --rounds: at least 1")
    if args.duration <= 0 or args.warmup < 0 or args.logins < 1:
        parser.error("--duration must be positive, --warmup not negative, --logins at least 1")
    args.load_processes = min(args.load_processes, args.clients)
    return args


def measure(tmp: Path, args: argparse.Namespace) -> Measured:
    """Start the three servers, load them in alternating rounds, then time logins."""
    with contextlib.ExitStack() as stack:  # closes in reverse: servers stop, then the database goes
        database = minifin_instance.database_url(stack, args.database, tmp, args.postgres_url)
        minifin = minifin_instance.start_minifin(stack, tmp, database)
        sizes = {"workers": args.workers, "threads": args.threads}
        serve_minifin = minifin_instance.serve_minifin_process
        me_port, me_server = serve_minifin(stack, minifin, tmp / "api.log", **sizes)
        every_port, every_server = serve_minifin(
            stack, minifin, tmp / "api-every.log", **sizes, MINIFIN_SESSION_CHECK_SECONDS="0"
        )
        bare_port = free_port()
        bare_argv = gunicorn_argv("bench.api:bare_app", bare_port, args.workers, args.threads)
        bare_env = minifin_instance.child_env({})
        bare_server = serve(
            stack, bare_argv, bare_env, tmp / "bare.log", f"http://{HOST}:{bare_port}{PING_PATH}"
        )
        servers = {"me": me_server, "me_every_request": every_server, "bare": bare_server,
                   "gift": me_server, "bare_post": bare_server}  # fmt: skip
        bearer = {"Authorization": f"Bearer {minifin_instance.access_token(minifin, me_port)}"}
        sender, order = gift_order(minifin, me_port)
        purchase = Post(order, unique_header="Idempotency-Key")
        targets = {
            "me": (me_port, ME_PATH, bearer, None),
            "me_every_request": (every_port, ME_PATH, bearer, None),
            "bare": (bare_port, PING_PATH, {}, None),
            "gift": (me_port, GIFTS_PATH, sender, purchase),
            "bare_post": (bare_port, BARE_POST_PATH, {}, Post(order)),
        }
        for port, path, headers, post in targets.values():
            if post is None:
                minifin_instance.expect_ok(port, path, headers)
            else:
                expect_created(port, path, headers, post.body)
        shape = LoadShape(args.clients, args.load_processes, args.warmup)
        loads, seconds = {name: LoadResult(0) for name in LOADS}, args.duration / args.rounds
        cpu = dict.fromkeys(LOADS, 0.0)
        for number in range(1, args.rounds + 1):
            progress(f"round {number}/{args.rounds}: {', '.join(LOADS)}; "
                     f"{args.warmup:g}s warm-up + {seconds:g}s measured each")  # fmt: skip
            for name in LOADS:
                port, path, headers, post = targets[name]
                before = group_cpu_seconds(servers[name])
                loads[name].extend(drive(port, path, headers, shape, seconds, post))
                cpu[name] += group_cpu_seconds(servers[name]) - before
        progress(f"timing {args.logins} sequential logins")
        logins = minifin_instance.time_logins(minifin, me_port, args.logins)
        return Measured(
            loads,
            cpu,
            logins,
            minifin.session_check_seconds,
            minifin_instance.describe_database(database),
        )


# --- output -----------------------------------------------------------------------------------


def summary(measured: Measured, args: argparse.Namespace, load_before: float) -> dict:
    """Every figure and setting, as one JSON-ready mapping."""
    loads, logins = measured.loads, measured.logins

    def ratio(name: str, baseline: str) -> float:
        base = loads[baseline].requests_per_second
        return round(loads[name].requests_per_second / base, 3) if base else 0.0

    def cpu_us(name: str) -> float:
        answered = loads[name].answered
        return round(measured.cpu_seconds[name] / answered * 1e6, 1) if answered else 0.0

    def cpu_ratio(name: str, baseline: str) -> float:
        return round(cpu_us(baseline) / cpu_us(name), 3) if cpu_us(name) else 0.0

    login_p50 = round(percentile(logins, 50), 2)
    return {
        **{name: {**loads[name].figures(), "server_cpu_us": cpu_us(name)} for name in LOADS},
        "cpu_ratio": cpu_ratio("me", "bare"),
        "cpu_ratio_every_request": cpu_ratio("me_every_request", "bare"),
        "cpu_ratio_gift": cpu_ratio("gift", "bare_post"),
        "ratio": ratio("me", "bare"),
        "ratio_every_request": ratio("me_every_request", "bare"),
        "ratio_gift": ratio("gift", "bare_post"),
        "targets": {
            "ratio": TARGET_RATIO,
            "ratio_every_request": TARGET_RATIO_EVERY_REQUEST,
            "login_p50_ms": TARGET_LOGIN_P50_MS,
        },
        "meets_targets": {
            "ratio": ratio("me", "bare") >= TARGET_RATIO,
            "ratio_every_request": ratio("me_every_request", "bare") >= TARGET_RATIO_EVERY_REQUEST,
            "login_p50_ms": login_p50 <= TARGET_LOGIN_P50_MS,
        },
        "login": {
            "count": len(logins),
            "p50_ms": login_p50,
            "p99_ms": round(percentile(logins, 99), 2),
        },
        "settings": {
            "worker_class": "gthread",
            "workers": args.workers,
            "threads": args.threads,
            "clients": args.clients,
            "load_processes": args.load_processes,
            "duration_s": args.duration,
            "rounds": args.rounds,
            "warmup_s": args.warmup,
            "cpu_cores": os.cpu_count(),
            "load_average_before": round(load_before, 2),
            "database": args.database,
            "database_detail": measured.database_detail,
            "session_check_seconds": measured.session_check_seconds,
        },
    }


def print_table(results: dict) -> None:
    """The human-readable report."""
    s = results["settings"]
    print(
        f"Minifin on {s['database_detail']}, migrated; gunicorn {s['worker_class']}: "
        f"{s['workers']} workers x {s['threads']} threads for all three servers"
    )
    print(
        f"load: {s['clients']} keep-alive clients in {s['load_processes']} processes, "
        f"{s['duration_s']:g}s measured per endpoint in {s['rounds']} alternating rounds "
        f"(each after {s['warmup_s']:g}s warm-up)"
    )
    sharing = "servers, PostgreSQL, the mock and" if s["database"] == "postgresql" else (
        "servers, the mock and")  # fmt: skip
    print(
        f"{sharing} the load generator share {s['cpu_cores']} CPU cores on {HOST}; "
        "absolute figures are machine-bound, compare the ratios"
    )
    print(f"1-minute load average before the run: {s['load_average_before']:.2f}")
    print()
    remembered = f"remembered {s['session_check_seconds']:g} s"
    labels = {
        "me": f"GET {ME_PATH} (JWT + session check, {remembered})",
        "me_every_request": f"GET {ME_PATH} (JWT + session check on every request)",
        "bare": f"GET {PING_PATH} (bare Flask)",
        "gift": f"POST {GIFTS_PATH} (a purchase + alipay.trade.create)",
        "bare_post": f"POST {BARE_POST_PATH} (bare Flask, canned 201)",
    }
    for name, label in labels.items():
        row = results[name]
        print(
            f"{label:<53}{row['requests_per_second']:>7.0f} req/s   "
            f"p50 {row['p50_ms']:5.1f} ms   p99 {row['p99_ms']:6.1f} ms   "
            f"server CPU {row['server_cpu_us']:6.0f} us/req   errors {row['errors']}"
        )
    targets, met = results["targets"], results["meets_targets"]

    def verdict(name: str) -> str:
        return "OK" if met[name] else "BELOW TARGET"

    print(f"{'':44}req/s  CPU/req (bare's server CPU per request / Minifin's)")
    rows = [
        (f"ratio vs bare GET, {remembered}:", "ratio"),
        ("ratio vs bare GET, checked every request:", "ratio_every_request"),
    ]
    for label, name in rows:
        print(f"{label:<44}{results[name]:5.2f}  {results['cpu_' + name]:5.2f}     "
              f"target >= {targets[name]:.2f}   {verdict(name)}")  # fmt: skip
    print(f"{'ratio vs bare POST, a gift purchase:':<44}{results['ratio_gift']:5.2f}  "
          f"{results['cpu_ratio_gift']:5.2f}     (p99 {results['gift']['p99_ms']:.1f} ms; "
          "no target)")  # fmt: skip
    login = results["login"]
    label = "full login (2 signed gateway round trips)"
    print(
        f"{label:<53}{'':13}   p50 {login['p50_ms']:5.1f} ms   "
        f"p99 {login['p99_ms']:5.1f} ms   ({login['count']} sequential)   "
        f"target p50 <= {targets['login_p50_ms']:g} ms   {verdict('login_p50_ms')}"
    )
    for name in LOADS:
        for sample in results[name]["error_samples"]:
            print(f"error ({name}): {sample}")


def stop_on_sigterm(signum, frame) -> None:
    """Make SIGTERM unwind like Ctrl-C, so the servers stop and the database is dropped."""
    sys.exit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and report; 1 when the bench itself failed."""
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        with tempfile.TemporaryDirectory(prefix="minifin-bench-") as directory:
            measured = measure(Path(directory), args)
    except (BenchFailed, httpx.HTTPError) as exc:
        progress(f"failed: {exc}")
        return 1
    results = summary(measured, args, load_before)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    errors = sum(result.errors for result in measured.loads.values())
    if errors:
        progress(f"failed: {errors} requests did not answer 200 (201 for a POST)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
