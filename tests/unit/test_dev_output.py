"""What `minifin dev` prints: a time and a name on every line, no INFO line that says WARNING,
and a worker summary that is short when there is nothing to tell."""

from __future__ import annotations

import logging
from datetime import datetime

import click
from flask import Flask

from service.dev_output import _DevFormatter, log_line
from service.scheduler.worker import DueWorkSource, Worker

ARRIVED = datetime(2026, 12, 2, 1, 4, 47, 254000)


def _plain(line: str | None) -> str | None:
    return None if line is None else click.unstyle(line)


def test_a_logged_line_keeps_its_own_time_in_front_of_the_name():
    line = "2026-12-02 01:04:46,390 INFO werkzeug: 127.0.0.1 - - \"GET /healthz HTTP/1.1\" 200 -\n"
    assert _plain(log_line("api", line, ARRIVED)) == (
        '01:04:46.390      api | INFO werkzeug: 127.0.0.1 - - "GET /healthz HTTP/1.1" 200 -'
    )


def test_a_line_without_a_time_gets_the_time_it_arrived():
    assert _plain(log_line("mock-idp", " * Running on http://127.0.0.1:5001\n", ARRIVED)) == (
        "01:04:47.254 mock-idp |  * Running on http://127.0.0.1:5001"
    )


def test_werkzeugs_development_server_banner_is_left_out_however_it_comes():
    banner = (
        "WARNING: This is a development server. Do not use it in a production deployment. "
        "Use a production WSGI server instead."
    )
    for line in (
        f"2026-12-02 00:58:18,246 INFO werkzeug: {banner}",  # the API: through Minifin's logging
        banner,  # the mock: werkzeug's own handler
        "2026-12-02 00:58:18,246 INFO werkzeug: Press CTRL+C to quit",
        " * Debug mode: off",
    ):
        assert log_line("api", line, ARRIVED) is None, line


def _worker(*sources: DueWorkSource) -> Worker:
    return Worker(Flask("test"), sources=list(sources), poll_interval=0.01)


def test_an_idle_workers_summary_is_one_short_line():
    quiet = _worker(
        DueWorkSource("outbox", lambda worker_id, limit: 0, summary=lambda seconds: ""),
        DueWorkSource("due_gifts", lambda worker_id, limit: 0, summary=lambda seconds: ""),
    )
    quiet.run_once()
    assert quiet.summary(60) == f"worker {quiet.id}: idle for 60s (nothing due, nothing dead)"


def test_a_summary_with_something_to_tell_tells_it_all():
    busy = _worker(
        DueWorkSource("outbox", lambda worker_id, limit: 0, summary=lambda s: "outbox 2 due"),
        DueWorkSource("due_gifts", lambda worker_id, limit: 1, summary=lambda s: ""),
    )
    busy.run_once()
    assert busy.summary(60) == (
        f"worker {busy.id}: 1 rows in 60s (outbox 0, due_gifts 1); outbox 2 due"
    )


def test_every_line_of_a_multi_line_record_of_minifin_dev_itself_is_prefixed():
    record = logging.LogRecord("alembic", logging.INFO, __file__, 1, "first\nsecond", None, None)
    record.created = ARRIVED.timestamp()
    record.msecs = 254.0
    shown = click.unstyle(_DevFormatter("%(levelname)s %(name)s: %(message)s").format(record))
    assert shown.splitlines() == [
        "01:04:47.254      dev | INFO alembic: first",
        "01:04:47.254      dev | second",
    ]
