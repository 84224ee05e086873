"""Identity changes racing each other, interleaved at the exact point, on both engines.

SQLite serialises writers; PostgreSQL under READ COMMITTED lets two transactions read the same
state and both act on it. Each test holds one request at a chosen point (a barrier or an event
in a SQLAlchemy hook, or a latency fault on the mock) while the other one runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import httpx
import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from service.extensions import db
from service.identity.models import Identity, IdentityVerification
from tests.conftest import auth_code, bearer, migrated_app
from tests.identity_helpers import finish_scan, start

INITIALIZE = "alipay.user.certify.open.initialize"
QUERY = "alipay.user.certify.open.query"
LIMIT = 5


@pytest.fixture
def engine_app(app, app_env, any_database_url) -> Iterator:
    """A Minifin app of the test's own on each engine (the shared app's limiter is restored)."""
    from service.extensions import limiter

    with migrated_app(
        app_env, any_database_url, MINIFIN_IDENTITY_ATTEMPTS_PER_DAY=str(LIMIT)
    ) as application:
        yield application
    limiter.init_app(app)


@pytest.fixture
def zhang(engine_app, mock_idp, demo_users) -> str:
    """Demo user 0 (张伟, whose face passes) logged in to the test's app."""
    code = auth_code(mock_idp.url, demo_users[0]["user_id"])
    response = engine_app.test_client().post("/v1/sessions", json={"auth_code": code})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["access_token"]


@contextmanager
def listening(target, name: str, listener: Callable) -> Iterator[None]:
    event.listen(target, name, listener)
    try:
        yield
    finally:
        event.remove(target, name, listener)


def _in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(target=lambda: result.append(work()), daemon=True)
    thread.start()
    return thread, result


def _rows(app, model) -> list:
    with app.app_context():
        rows = list(db.session.scalars(select(model)))
        db.session.rollback()
        return rows


def _events(client, token) -> list[dict]:
    """The user's identity events, oldest first (the list pages newest first)."""
    page = client.get("/v1/identity/events?limit=100", headers=bearer(token)).get_json()
    assert not page["has_more"]
    return page["data"][::-1]


def _assert_nothing_left(app, client, token) -> None:
    """No sealed name or number and no blind index anywhere, and the user is not verified."""
    assert _rows(app, Identity) == []
    with app.app_context():
        sealed = db.session.execute(
            select(IdentityVerification.name_sealed, IdentityVerification.id_number_sealed,
                   IdentityVerification.id_number_hash)
        ).all()  # fmt: skip
    assert sealed and all(values == (None,) * 3 for values in sealed)
    assert client.get("/v1/identity", headers=bearer(token)).get_json()["verified"] is False


def test_concurrent_starts_released_together_record_exactly_the_daily_limit(engine_app, zhang):
    """Eight starts are held together just after counting the day's attempts, then released."""
    starts = LIMIT + 3
    counted = threading.Barrier(starts, timeout=3)

    def hold_after_the_count(conn, cursor, statement, parameters, context, executemany):
        if "min(identity_verifications.created_at)" in statement:
            with suppress(threading.BrokenBarrierError):  # the others are kept out by a lock
                counted.wait()

    with listening(_engine(engine_app), "after_cursor_execute", hold_after_the_count):
        threads = [
            _in_thread(lambda: start(engine_app.test_client(), zhang).status_code)
            for _ in range(starts)
        ]
        for thread, _ in threads:
            thread.join(timeout=60)

    statuses = sorted(result[0] for _, result in threads)
    assert statuses == [201] * LIMIT + [429] * (starts - LIMIT)
    assert len(_rows(engine_app, IdentityVerification)) == LIMIT


def _engine(app):
    with app.app_context():
        return db.engine


@pytest.mark.parametrize("any_database_url", ["postgresql"], indirect=True)
def test_an_erasure_while_a_pass_is_being_recorded_leaves_no_identity_behind(
    engine_app, zhang, mock_idp
):
    """The pass is held just before its commit; the erasure starts and waits for its lock."""
    client = engine_app.test_client()
    verification = start(client, zhang).get_json()
    finish_scan(mock_idp.url, verification, passed=True)
    binding, release = threading.Event(), threading.Event()

    def hold_the_binding(session, *_):
        if any(isinstance(o, Identity) for o in session.new) and not binding.is_set():
            binding.set()
            release.wait(timeout=20)

    with listening(Session, "before_commit", hold_the_binding):
        passing, passed = _in_thread(
            lambda: (
                engine_app.test_client()
                .get(f"/v1/identity/verifications/{verification['id']}", headers=bearer(zhang))
                .get_json()
            )
        )
        assert binding.wait(timeout=20)
        erasing, erased = _in_thread(
            lambda: engine_app.test_client().delete("/v1/identity", headers=bearer(zhang))
        )
        _wait_until_blocked_on_a_lock(engine_app, erasing)
        release.set()
        passing.join(timeout=30)
        erasing.join(timeout=30)

    assert passed[0]["status"] == "passed" and erased[0].status_code == 200
    _assert_nothing_left(engine_app, client, zhang)
    events = _events(client, zhang)
    assert [e["type"] for e in events][-2:] == ["verification.passed", "identity.erased"]
    assert events[-1]["detail"] == {"had_identity": True}


def _wait_until_blocked_on_a_lock(app, thread: threading.Thread) -> None:
    """Until another PostgreSQL session of this database waits for a lock (or `thread` ended)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 20
    with app.app_context(), db.engine.connect() as connection:
        while thread.is_alive() and time.monotonic() < deadline:
            if connection.execute(query).scalar():
                return
            connection.rollback()
            time.sleep(0.02)


def test_a_pass_that_arrives_after_an_erasure_binds_no_identity(
    engine_app, zhang, mock_idp, mock_control
):
    """The platform's `passed` is held in flight (a latency fault) while the erasure commits."""
    client = engine_app.test_client()
    verification = start(client, zhang).get_json()
    finish_scan(mock_idp.url, verification, passed=True)
    mock_control.post("/_mock/faults", json={"method": QUERY, "kind": "latency", "seconds": 3,
                                              "times": 1})  # fmt: skip

    reading, read = _in_thread(
        lambda: (
            engine_app.test_client()
            .get(f"/v1/identity/verifications/{verification['id']}", headers=bearer(zhang))
            .get_json()
        )
    )
    _wait_until(lambda: mock_control.get("/_mock/faults").json()["faults"] == [])
    erased = client.delete("/v1/identity", headers=bearer(zhang))
    assert reading.is_alive(), "the platform's answer came back before the erasure finished"
    reading.join(timeout=30)

    assert erased.status_code == 200
    assert read[0]["status"] == "canceled"
    _assert_nothing_left(engine_app, client, zhang)
    types = [e["type"] for e in _events(client, zhang)]
    assert "verification.passed" not in types and types[-1] == "identity.erased"


def _wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_an_erasure_during_start_sends_no_name_or_number_to_the_platform(
    engine_app, zhang, mock_idp
):
    """The start is held just after its attempt commits, before the platform is called."""
    client = engine_app.test_client()
    recorded, erased = threading.Event(), threading.Event()

    def note_a_new_attempt(session, *_):
        if any(isinstance(o, IdentityVerification) for o in session.new):
            session.info["new_attempt"] = True

    def hold_after_the_commit(session):
        if session.info.pop("new_attempt", False):
            recorded.set()
            erased.wait(timeout=20)

    calls_before = _initialize_calls(mock_idp)
    with (
        listening(Session, "before_flush", note_a_new_attempt),
        listening(Session, "after_commit", hold_after_the_commit),
    ):
        starting, started = _in_thread(lambda: start(engine_app.test_client(), zhang))
        assert recorded.wait(timeout=20)
        erasure = client.delete("/v1/identity", headers=bearer(zhang))
        erased.set()
        starting.join(timeout=30)

    assert erasure.status_code == 200
    answer = started[0].get_json()
    assert (answer["status"], answer["certify_url"]) == ("canceled", None)
    assert _initialize_calls(mock_idp) == calls_before
    _assert_nothing_left(engine_app, client, zhang)
    events = _events(client, zhang)
    assert [(e["type"], e["verification_id"]) for e in events] == [
        ("verification.started", answer["id"]),
        ("verification.canceled", answer["id"]),
        ("identity.erased", None),
    ]


def _initialize_calls(mock_idp) -> list[int]:
    calls = httpx.get(f"{mock_idp.url}/_mock/calls", params={"method": INITIALIZE}).json()
    return [call["id"] for call in calls["calls"]]
