"""Identity changes racing each other, interleaved at the exact point, on both engines.

SQLite serialises writers; PostgreSQL under READ COMMITTED lets two transactions read the same
state and both act on it. Each test holds one request at a chosen point (a barrier or an event
in a SQLAlchemy hook, or a latency fault on the mock) while the other one runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import pytest
from flask_migrate import upgrade
from sqlalchemy import event, select

from service import MIGRATIONS_DIR, create_app
from service.extensions import db
from service.identity.models import Identity, IdentityVerification
from tests.conftest import auth_code, bearer
from tests.identity_helpers import start

INITIALIZE = "alipay.user.certify.open.initialize"
QUERY = "alipay.user.certify.open.query"
LIMIT = 5


@pytest.fixture
def engine_app(app, app_env, any_database_url) -> Iterator:
    """A Minifin app of the test's own on each engine (the shared app's limiter is restored)."""
    from service.extensions import limiter

    application = create_app(
        {**app_env, "MINIFIN_DATABASE_URL": any_database_url,
         "MINIFIN_IDENTITY_ATTEMPTS_PER_DAY": str(LIMIT)}
    )  # fmt: skip
    with application.app_context():
        upgrade(directory=MIGRATIONS_DIR)
    yield application
    with application.app_context():
        db.engine.dispose()
    application.extensions["minifin"].gateway.close()
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
    return client.get("/v1/identity/events", headers=bearer(token)).get_json()


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
