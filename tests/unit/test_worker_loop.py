"""The worker loop: batches from every source, idles when there is nothing, stops on request."""

from __future__ import annotations

import threading
import time

from flask import Flask

from service.scheduler.worker import DueWorkSource, Worker


def _worker(sources, **kwargs) -> Worker:
    return Worker(Flask("test"), sources=sources, poll_interval=0.01, **kwargs)


def test_one_pass_asks_every_source_for_a_batch_of_the_configured_size():
    asked = []
    sources = [
        DueWorkSource("gifts", lambda limit: asked.append(("gifts", limit)) or 3),
        DueWorkSource("outbox", lambda limit: asked.append(("outbox", limit)) or 2),
    ]

    handled = _worker(sources, batch_size=50).run_once()

    assert handled == 5
    assert asked == [("gifts", 50), ("outbox", 50)]


def test_a_failing_source_is_logged_and_does_not_stop_the_others(caplog):
    def broken(limit):
        raise RuntimeError("database went away")

    worker = _worker([DueWorkSource("broken", broken), DueWorkSource("fine", lambda limit: 1)])

    assert worker.run_once() == 1
    assert "broken failed" in caplog.text


def test_the_loop_keeps_going_while_there_is_work_and_stops_when_asked():
    remaining = {"rows": 5}
    stopped = threading.Event()

    def drain(limit):
        taken = min(limit, remaining["rows"])
        remaining["rows"] -= taken
        return taken

    worker = _worker([DueWorkSource("rows", drain)], batch_size=2)
    thread = threading.Thread(target=lambda: (worker.run(), stopped.set()))
    thread.start()
    while remaining["rows"]:
        time.sleep(0.001)
    worker.stop()
    thread.join(timeout=5)

    assert stopped.is_set()
    assert worker.processed == 5


def test_a_worker_with_no_sources_idles_and_stops():
    worker = _worker([])
    thread = threading.Thread(target=worker.run)
    thread.start()
    worker.stop()
    thread.join(timeout=5)

    assert not thread.is_alive()
    assert worker.processed == 0
