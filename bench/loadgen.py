"""The load generator: keep-alive clients in several processes, timed inside a measured window.

Each client sends GETs back to back, or with a `Post` the same POST body, each request with a
fresh value in `Post.unique_header` (an Idempotency-Key) when one is named.

Several processes (threads inside each) so one interpreter's GIL does not cap the load; they start
together at a barrier, warm up unmeasured, and record only the requests that finish inside the
window, so process start-up, imports and first connections stay out of the figures.
"""

from __future__ import annotations

import http.client
import math
import multiprocessing
import os
import queue
import threading
import time
from dataclasses import dataclass, field

from bench import HOST, BenchFailed


@dataclass(frozen=True)
class LoadShape:
    """How hard to push: clients in total, the processes they are spread over, warm-up seconds."""

    clients: int
    processes: int
    warmup: float


@dataclass(frozen=True)
class Post:
    """Send this JSON body by POST instead of a GET, and expect `status` (201) back."""

    body: bytes
    unique_header: str | None = None  # sent with a value of its own on every request
    status: int = 201


@dataclass
class LoadResult:
    """What one load run measured."""

    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    answered: int = 0  # every answer, warm-up included (what the servers' CPU time was spent on)

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def extend(self, other: LoadResult) -> None:
        """Add a later slice of the same measurement."""
        self.seconds += other.seconds
        self.merge(vars(other))

    def merge(self, other: dict) -> None:
        """Add one load process's results."""
        self.latencies_ms.extend(other["latencies_ms"])
        self.errors += other["errors"]
        self.answered += other.get("answered", 0)
        self.error_samples.extend(other["error_samples"][: max(0, 5 - len(self.error_samples))])

    def figures(self) -> dict:
        """Throughput, latency percentiles and errors, JSON-ready."""
        return {
            "requests_per_second": round(self.requests_per_second, 1),
            "requests": len(self.latencies_ms),
            "p50_ms": round(percentile(self.latencies_ms, 50), 2),
            "p99_ms": round(percentile(self.latencies_ms, 99), 2),
            "errors": self.errors,
            "error_samples": self.error_samples,
        }


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of `values` (0 when there are none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def drive(
    port: int, path: str, headers: dict, shape: LoadShape, seconds: float, post: Post | None = None
) -> LoadResult:
    """Run the load processes against one server for `seconds` and merge what they measured."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(shape.processes), context.Queue()
    shares = [len(range(i, shape.clients, shape.processes)) for i in range(shape.processes)]
    spec = (port, path, headers, shape.warmup, seconds, post)
    processes = [
        context.Process(target=load_process, args=(*spec, n, barrier, results), daemon=True)
        for n in shares
    ]
    result = LoadResult(seconds=seconds)
    try:
        for process in processes:
            process.start()
        for _ in processes:
            result.merge(results.get(timeout=shape.warmup + seconds + 60))
    except queue.Empty as exc:
        raise BenchFailed("a load generator process died or hung") from exc
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
    return result


def load_process(port, path, headers, warmup, duration, post, threads, barrier, results) -> None:
    """One load process: `threads` keep-alive clients, started together with the other processes."""
    barrier.wait(timeout=60)
    window_start = time.time() + warmup
    window = (window_start, window_start + duration)
    sinks = [{"latencies_ms": [], "errors": 0, "error_samples": [], "answered": 0}
             for _ in range(threads)]  # fmt: skip
    clients = [
        threading.Thread(target=hammer, args=(port, path, headers, window, sink, post))
        for sink in sinks
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    merged = LoadResult(seconds=duration)
    for sink in sinks:
        merged.merge(sink)
    results.put(
        {
            "latencies_ms": merged.latencies_ms,
            "errors": merged.errors,
            "error_samples": merged.error_samples,
            "answered": merged.answered,
        }
    )


def hammer(
    port: int,
    path: str,
    headers: dict,
    window: tuple[float, float],
    sink: dict,
    post: Post | None = None,
) -> None:
    """One client: requests back to back on a keep-alive connection until the window closes."""
    window_start, window_end = window
    connection = None
    method, body, expected = ("POST", post.body, post.status) if post else ("GET", None, 200)
    if post:
        headers = {**headers, "Content-Type": "application/json"}
    prefix, sent = f"{os.getpid()}-{threading.get_ident()}-{time.time_ns()}", 0
    while time.time() < window_end:
        connection = connection or http.client.HTTPConnection(HOST, port, timeout=10)
        if post and post.unique_header:
            sent += 1
            headers = {**headers, post.unique_header: f"{prefix}-{sent}"}
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            connection = None
            record_error(sink, f"{type(exc).__name__}: {exc}")
            continue
        elapsed_ms = (time.perf_counter() - started) * 1000
        sink["answered"] += 1
        if response.status != expected:
            record_error(sink, f"HTTP {response.status} {answer[:200]!r}")
        elif window_start <= time.time() < window_end:
            sink["latencies_ms"].append(elapsed_ms)
    if connection is not None:
        connection.close()


def record_error(sink: dict, message: str) -> None:
    """Count a failed request and keep the first few messages."""
    sink["errors"] += 1
    if len(sink["error_samples"]) < 5:
        sink["error_samples"].append(message)
