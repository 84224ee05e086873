"""The worker's LISTEN connection on PostgreSQL: woken by NOTIFY, and listening again after the
server ends the connection (a restart, a failover) instead of sleeping out every poll for ever."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from config import load_settings
from service.db_sessions import connect_args
from service.scheduler.wakeup import Listener, listener_for
from tests.conftest import postgres_base_url, temporary_postgres_database

CHANNEL = "minifin_test_wakeup"


@pytest.fixture
def conninfo() -> str:
    base = postgres_base_url()
    if base is None:
        pytest.skip("PostgreSQL is not reachable (set MINIFIN_TEST_DATABASE_URL)")
    return base.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def listen():
    made: list[Listener] = []

    def _listen(conninfo: str) -> Listener:
        settings = load_settings({"MINIFIN_PROFILE": "test", "MINIFIN_DATABASE_URL": conninfo})
        listener = listener_for(settings, CHANNEL)
        assert isinstance(listener, Listener)
        made.append(listener)
        return listener

    yield _listen
    for listener in made:
        listener.close()


def _notify_soon(conninfo: str, delay: float = 0.3) -> threading.Thread:
    def send() -> None:
        time.sleep(delay)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f"NOTIFY {CHANNEL}")

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def _woken_within(listener: Listener, conninfo: str, seconds: float = 10) -> float:
    sender = _notify_soon(conninfo)
    started = time.monotonic()
    listener(seconds, threading.Event())
    sender.join()
    return time.monotonic() - started


def _terminate(conninfo: str, pid: int) -> None:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_notice_wakes_the_listener_long_before_its_interval(conninfo, listen):
    listener = listen(conninfo)
    assert _woken_within(listener, conninfo) < 2


def test_a_listener_whose_connection_the_server_ends_listens_again(conninfo, listen):
    listener = listen(conninfo)
    first = listener.backend_pid
    _terminate(conninfo, first)

    started = time.monotonic()
    listener(10, threading.Event())  # finds the connection gone: back at once, not in 10 s
    listener(10, threading.Event())  # connects again, and returns so the loop looks for work
    assert time.monotonic() - started < 2
    assert listener.backend_pid not in (None, first)
    assert _woken_within(listener, conninfo) < 2  # and NOTIFY reaches it again


def test_while_its_database_cannot_be_reached_the_listener_sleeps_its_interval(conninfo, listen):
    with temporary_postgres_database(conninfo) as url:  # dropped at the end, ending the LISTEN
        listener = listen(url.replace("postgresql+psycopg://", "postgresql://"))
    listener(10, threading.Event())  # the connection is gone
    started = time.monotonic()
    listener(0.5, threading.Event())  # its database too: connecting fails, so it sleeps
    assert 0.5 <= time.monotonic() - started < 3 and listener.backend_pid is None


def test_the_connection_has_the_bounds_of_every_minifin_connection(conninfo, listen):
    listener = listen(conninfo)
    settings = load_settings({"MINIFIN_PROFILE": "test", "MINIFIN_DATABASE_URL": conninfo})
    given = psycopg.conninfo.conninfo_to_dict(listener._connection.info.dsn)
    expected = {name: str(value) for name, value in connect_args(settings).items()}
    assert {name: given.get(name) for name in expected} == expected
    assert expected["keepalives"] == "1" and "tcp_user_timeout" in expected


def test_sqlite_workers_only_sleep():
    stop = threading.Event()
    wait = listener_for(load_settings({"MINIFIN_PROFILE": "test",
                                       "MINIFIN_DATABASE_URL": "sqlite:///unused.sqlite3"}),
                        CHANNEL)  # fmt: skip
    started = time.monotonic()
    wait(0.2, stop)
    assert time.monotonic() - started >= 0.2
