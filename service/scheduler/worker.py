"""The worker loop: repeatedly asks each source of due work to run one batch.

All due work lives in database rows, never in this process's memory, so any number of workers
can run side by side and a killed worker loses nothing. When a pass finds nothing to do the loop
sleeps until the earliest known due time, at most `poll_interval`, or until PostgreSQL signals
new work (see wakeup.py). Every `summary_every` seconds it logs one line: what it handled, per
source, and each source's own figures for all workers (lateness, queue depth, dead rows).
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DueWorkSource:
    """One kind of due work.

    `run_batch(worker_id, limit)` handles up to `limit` rows and returns how many it took;
    `seconds_until_due(horizon)` says how long nothing will be due (at most `horizon`);
    `summary(seconds)` describes, in a few words for the log, how the work went lately, or says
    nothing ("") when there is nothing to tell (nothing done, due or dead). `stop()` is called
    once when the worker stops, after its last batch: a source whose work goes on in threads of
    its own (webhook deliveries) lets it finish and hands back what it claimed, so a restart
    leaves no claim to run out before another worker may take the work.
    """

    name: str
    run_batch: Callable[[str, int], int]
    seconds_until_due: Callable[[float], float] | None = None
    summary: Callable[[float], str] | None = None
    stop: Callable[[], None] | None = None


def new_worker_id() -> str:
    """host:pid:random — unique per process, readable in job listings."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    """Polls its sources (by default all the app's); stops after the current batch on SIGTERM or
    SIGINT, once each source has finished what it started."""

    def __init__(
        self,
        app: Flask,
        *,
        sources: list[DueWorkSource] | None = None,
        poll_interval: float = 1.0,
        batch_size: int = 100,
        summary_every: float = 60.0,
        wait: Callable[[float, threading.Event], None] | None = None,
    ):
        self.app = app
        # By default every kind of due work the app was composed with (service/bootstrap.py).
        if sources is None:
            sources = list(app.extensions["minifin"].wiring.due_work.values())
        self.sources = sources
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.summary_every = summary_every
        self.id = new_worker_id()
        self._wait = wait or (lambda seconds, stop: stop.wait(seconds))
        self._stop = threading.Event()
        self.processed = 0
        self._handled_since_summary: Counter[str] = Counter()

    def stop(self, *_signal_args: object) -> None:
        """Ask the loop to finish its current batch and return."""
        self._stop.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._stop_on_signal)
        signal.signal(signal.SIGINT, self._stop_on_signal)

    def _stop_on_signal(self, *_signal_args: object) -> None:
        """Stop from another thread: a handler runs on the main thread, which may be inside
        `self._stop.wait()` holding the event's own lock, and setting the event from there
        would wait for that lock for ever."""
        threading.Thread(target=self.stop, name="worker-stop", daemon=True).start()

    def run_once(self) -> int:
        """One pass over every source; returns the number of rows handled."""
        handled = 0
        for source in self.sources:
            with self.app.app_context():
                try:
                    count = source.run_batch(self.id, self.batch_size)
                except Exception:
                    log.exception("due-work source %s failed; it will be retried", source.name)
                    continue
            handled += count
            self._handled_since_summary[source.name] += count
        self.processed += handled
        return handled

    def idle_seconds(self) -> float:
        """How long to sleep: until the earliest due work any source knows of, capped."""
        idle = self.poll_interval
        for source in self.sources:
            if source.seconds_until_due is None:
                continue
            with self.app.app_context():
                try:
                    idle = min(idle, source.seconds_until_due(self.poll_interval))
                except Exception:
                    log.exception("due-work source %s could not say what is due", source.name)
        return idle

    def summary(self, seconds: float) -> str:
        """One line: rows this worker handled in the last `seconds`, then each source's figures.

        An idle system (nothing handled, and no source with anything to tell) gets a short line.
        """
        handled = sum(self._handled_since_summary.values())
        mine = ", ".join(f"{s.name} {self._handled_since_summary[s.name]}" for s in self.sources)
        parts = [f"worker {self.id}: {handled} rows in {seconds:.0f}s ({mine or 'no sources'})"]
        for source in self.sources:
            if source.summary is None:
                continue
            with self.app.app_context():
                try:
                    told = source.summary(seconds)
                except Exception:
                    log.exception("due-work source %s could not summarise", source.name)
                    told = ""
            if told:
                parts.append(told)
        self._handled_since_summary.clear()
        if handled == 0 and len(parts) == 1:
            return f"worker {self.id}: idle for {seconds:.0f}s (nothing due, nothing dead)"
        return "; ".join(parts)

    def run(self) -> None:
        """Loop until stopped; sleeps only when a pass found nothing to do."""
        names = ", ".join(s.name for s in self.sources) or "none"
        log.info("worker %s started (sources: %s)", self.id, names)
        last_summary = time.monotonic()
        while not self._stop.is_set():
            if self.run_once() == 0:
                self._wait(self.idle_seconds(), self._stop)
            if (elapsed := time.monotonic() - last_summary) >= self.summary_every:
                log.info("%s", self.summary(elapsed))
                last_summary = time.monotonic()
        self._stop_sources()
        log.info("worker %s stopped after %d rows", self.id, self.processed)

    def _stop_sources(self) -> None:
        for source in self.sources:
            if source.stop is None:
                continue
            with self.app.app_context():
                try:
                    source.stop()
                except Exception:
                    log.exception("due-work source %s could not stop cleanly", source.name)
