"""Waking idle workers at once when new work is enqueued, via PostgreSQL's LISTEN/NOTIFY.

`outbox.enqueue()` sends NOTIFY in the enqueuing transaction; a listening worker stops sleeping
when it arrives. SQLite has no such channel, so there workers simply sleep their short interval.

The LISTEN connection is a worker's for its whole life, so it must outlive what a database
connection meets: a server restart or a failover ends it with an error, and a peer that vanished
(a dropped NAT entry, a dead host) ends nothing, so it is opened with the bounds of every
Minifin connection (db_sessions.py: TCP keepalives, `tcp_user_timeout`). A lost connection
costs no work (the worker polls after every wait, and notices missed meanwhile only told it to
look), but left alone it would leave the worker sleeping its full interval for ever: the
listener connects again at the next wait, and until it can, sleeps.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.engine import make_url

from config import Settings
from service.db_sessions import connect_args

log = logging.getLogger(__name__)


def _sleep(seconds: float, stop: threading.Event) -> None:
    """SQLite has no notifications: sleep until the time is up or the worker is stopped."""
    stop.wait(seconds)


class Listener:
    """A wait function for the worker over a LISTEN connection that comes back when lost.

    The first connection is made at once, so a worker that cannot reach its database says so
    when it starts.
    """

    def __init__(self, conninfo: str, channel: str, options: Mapping[str, Any]):
        import psycopg

        self._psycopg = psycopg
        self._conninfo = psycopg.conninfo.make_conninfo(conninfo, **options)
        self._channel = channel
        self._connection: Any = self._connect()
        self._reconnecting = False
        log.info("worker listening for new jobs on channel %s", channel)

    def _connect(self) -> Any:
        connection = self._psycopg.connect(self._conninfo, autocommit=True)
        connection.execute(self._psycopg.sql.SQL("LISTEN {}").format(
            self._psycopg.sql.Identifier(self._channel)))  # fmt: skip
        return connection

    @property
    def backend_pid(self) -> int | None:
        """The server process of the LISTEN connection, None while it is lost."""
        return None if self._connection is None else self._connection.info.backend_pid

    def __call__(self, seconds: float, stop: threading.Event) -> None:
        """Sleep `seconds`, unless stopped or notified sooner. A lost connection returns at
        once, and so does the call that connects again (notices sent between the two were
        missed: the loop looks for work); while connecting fails, it sleeps."""
        if stop.is_set() or seconds <= 0:
            return
        if self._connection is None:
            if not self._connect_again():
                stop.wait(seconds)
            return
        try:
            for _notice in self._connection.notifies(timeout=seconds, stop_after=1):
                break
        except self._psycopg.OperationalError as error:
            log.warning("lost the LISTEN connection on channel %s (%s); connecting again",
                        self._channel, str(error).strip())  # fmt: skip
            self.close()

    def _connect_again(self) -> bool:
        try:
            self._connection = self._connect()
        except self._psycopg.OperationalError as error:
            if not self._reconnecting:  # once per outage, not once per poll
                log.warning("cannot LISTEN on channel %s yet (%s); polling until it can",
                            self._channel, str(error).strip())  # fmt: skip
            self._reconnecting = True
            return False
        log.info("listening again for new jobs on channel %s", self._channel)
        self._reconnecting = False
        return True

    def close(self) -> None:
        """Stop listening; the next call connects again."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


def listener_for(settings: Settings, channel: str) -> Callable[[float, threading.Event], None]:
    """A wait function for the worker: sleep `seconds`, unless stopped or notified sooner."""
    url = make_url(settings.database_url)
    if not url.drivername.startswith("postgresql"):
        return _sleep
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return Listener(conninfo, channel, connect_args(settings))
