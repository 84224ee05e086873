"""The worker loop: batches from every source, idles when there is nothing, stops on request."""

from __future__ import annotations

import signal
import threading
import time

from flask import Flask

from service.scheduler.worker import DueWorkSource, Worker


def _worker(sources, **kwargs) -> Worker:
    return Worker(Flask("test"), sources=sources, poll_interval=0.01, **kwargs)


def test_one_pass_asks_every_source_for_a_batch_of_the_configured_size():
    asked = []
    sources = [
        DueWorkSource("gifts", lambda worker_id, limit: asked.append(("gifts", limit)) or 3),
        DueWorkSource("outbox", lambda worker_id, limit: asked.append(("outbox", limit)) or 2),
    ]

    handled = _worker(sources, batch_size=50).run_once()

    assert handled == 5
    assert asked == [("gifts", 50), ("outbox", 50)]


def test_a_failing_source_is_logged_and_does_not_stop_the_others(caplog):
    def broken(worker_id, limit):
        raise RuntimeError("database went away")

    worker = _worker(
        [DueWorkSource("broken", broken), DueWorkSource("fine", lambda worker_id, limit: 1)]
    )

    assert worker.run_once() == 1
    assert "broken failed" in caplog.text


def test_the_loop_keeps_going_while_there_is_work_and_stops_when_asked():
    remaining = {"rows": 5}
    stopped = threading.Event()

    def drain(worker_id, limit):
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


def test_each_source_is_stopped_once_after_the_last_batch_and_a_failing_stop_is_logged(caplog):
    happened = []

    def broken_stop():
        raise RuntimeError("pool already gone")

    sources = [
        DueWorkSource("threads", lambda worker_id, limit: happened.append("batch") or 0,
                      stop=lambda: happened.append("stopped")),
        DueWorkSource("broken", lambda worker_id, limit: 0, stop=broken_stop),
        DueWorkSource("plain", lambda worker_id, limit: 0),
    ]  # fmt: skip
    worker = _worker(sources)
    thread = threading.Thread(target=worker.run)
    thread.start()
    while not happened:
        time.sleep(0.001)
    worker.stop()
    thread.join(timeout=5)

    assert not thread.is_alive()
    assert happened.count("stopped") == 1 and happened[-1] == "stopped"
    assert "broken could not stop cleanly" in caplog.text


def test_an_idle_worker_sleeps_until_the_earliest_due_work_but_no_longer_than_its_poll():
    sources = [
        DueWorkSource("soon", lambda worker_id, limit: 0, lambda horizon: 0.3),
        DueWorkSource("later", lambda worker_id, limit: 0, lambda horizon: min(horizon, 9.0)),
    ]

    assert _worker(sources).idle_seconds() == 0.01  # capped by the poll interval
    assert Worker(Flask("t"), sources=sources, poll_interval=5).idle_seconds() == 0.3


def test_each_worker_has_its_own_id():
    assert _worker([]).id != _worker([]).id


def test_a_stop_signal_landing_while_the_loop_waits_cannot_deadlock_it():
    worker = _worker([])
    handler_returned = threading.Event()

    def signal_inside_wait():
        # A handler runs on the thread it interrupts; inside Event.wait() that thread holds the
        # event's condition lock (CPython's `_cond`), which setting the event needs too.
        with worker._stop._cond:
            worker._stop_on_signal(signal.SIGTERM, None)
        handler_returned.set()

    threading.Thread(target=signal_inside_wait, daemon=True).start()

    assert handler_returned.wait(2), "the signal handler waited for a lock its thread holds"
    assert worker._stop.wait(2)
