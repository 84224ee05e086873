"""Waking idle workers at once when new work is enqueued, via PostgreSQL's LISTEN/NOTIFY.

`outbox.enqueue()` sends NOTIFY in the enqueuing transaction; a listening worker stops sleeping
when it arrives. SQLite has no such channel, so there workers simply sleep their short interval.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


def _sleep(seconds: float, stop: threading.Event) -> None:
    """SQLite has no notifications: sleep until the time is up or the worker is stopped."""
    stop.wait(seconds)


def listener_for(database_url: str, channel: str) -> Callable[[float, threading.Event], None]:
    """A wait function for the worker: sleep `seconds`, unless stopped or notified sooner."""
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        return _sleep
    import psycopg

    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = psycopg.connect(conninfo, autocommit=True)
    connection.execute(f"LISTEN {channel}")
    log.info("worker listening for new jobs on channel %s", channel)

    def wait(seconds: float, stop: threading.Event) -> None:
        if stop.is_set() or seconds <= 0:
            return
        try:
            for _notice in connection.notifies(timeout=seconds, stop_after=1):
                break
        except psycopg.OperationalError:
            log.warning("lost the LISTEN connection; sleeping instead")
            stop.wait(seconds)

    return wait
