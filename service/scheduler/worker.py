"""The worker loop: repeatedly asks each registered source of due work to run one batch.

All due work lives in database rows, never in this process's memory, so any number of workers
can run side by side and a killed worker loses nothing. Capabilities register their sources in
`SOURCES`; a loop with no sources simply idles.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DueWorkSource:
    """One kind of due work: `run_batch(limit)` handles up to `limit` rows, returns how many."""

    name: str
    run_batch: Callable[[int], int]


SOURCES: list[DueWorkSource] = []


class Worker:
    """Polls the registered sources; stops after the current batch on SIGTERM or SIGINT."""

    def __init__(
        self,
        app: Flask,
        *,
        sources: list[DueWorkSource] | None = None,
        poll_interval: float = 1.0,
        batch_size: int = 100,
        heartbeat_every: float = 60.0,
    ):
        self.app = app
        self.sources = SOURCES if sources is None else sources
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.heartbeat_every = heartbeat_every
        self._stop = threading.Event()
        self.processed = 0

    def stop(self, *_signal_args: object) -> None:
        """Ask the loop to finish its current batch and return."""
        self._stop.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run_once(self) -> int:
        """One pass over every source; returns the number of rows handled."""
        handled = 0
        for source in self.sources:
            with self.app.app_context():
                try:
                    handled += source.run_batch(self.batch_size)
                except Exception:
                    log.exception("due-work source %s failed; it will be retried", source.name)
        self.processed += handled
        return handled

    def run(self) -> None:
        """Loop until stopped; sleeps only when a pass found nothing to do."""
        names = ", ".join(s.name for s in self.sources) or "none registered yet"
        log.info("worker started (sources: %s)", names)
        last_heartbeat = time.monotonic()
        while not self._stop.is_set():
            if self.run_once() == 0:
                self._stop.wait(self.poll_interval)
            if time.monotonic() - last_heartbeat >= self.heartbeat_every:
                log.info("worker alive; %d rows handled so far", self.processed)
                last_heartbeat = time.monotonic()
        log.info("worker stopped after %d rows", self.processed)
