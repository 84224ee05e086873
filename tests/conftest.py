"""Fixtures shared by the API, integration and browser tests.

One live mock identity provider per test session on a loopback port, one migrated database
(SQLite in a temporary folder, or a fresh PostgreSQL database when MINIFIN_TEST_DATABASE_URL is
set), and one Minifin app wired to both. Tables are emptied after each test that used the app.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.gateway import signing
from service.security.keyfiles import new_keys_document, write_keys
from tests.live_server import LiveServer

pytest_plugins = [
    "tests.server_errors",  # every 500 Minifin answers fails its test
    "tests.run_figures",  # figures tests measured, in the run's summary
]

APP_ID = "2021000000000001"


@pytest.fixture(scope="session")
def mock_idp(tmp_path_factory) -> Iterator[LiveServer]:
    """The mock identity provider, serving real HTTP on 127.0.0.1."""
    from service.mock_idp import create_mock_app

    app = create_mock_app(tmp_path_factory.mktemp("mock-idp"))
    with LiveServer(app) as server:
        yield server
    app.extensions["mock_idp"].close()


DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_base_url() -> str | None:
    """A reachable PostgreSQL server's URL (the CI one, or the usual local one), else None."""
    candidate = os.environ.get("MINIFIN_TEST_DATABASE_URL") or os.environ.get(
        "MINIFIN_PG_URL", DEFAULT_POSTGRES_URL
    )
    url = make_url(candidate).set(drivername="postgresql+psycopg")
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
    except Exception:  # unreachable or no driver: the PostgreSQL tests skip
        return None
    return url.render_as_string(hide_password=False)


@contextmanager
def temporary_postgres_database(base_url: str) -> Iterator[str]:
    """Create an empty database for one test session or test, and drop it afterwards."""
    url = make_url(base_url).set(drivername="postgresql+psycopg")
    name = f"minifin_test_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def standalone_mock(tmp_path_factory):
    """A mock identity provider of the test module's own, for tests that reset or reconfigure it."""
    from tests.mock_idp_helpers import start_mock

    live, mock = start_mock(tmp_path_factory.mktemp("standalone-mock-idp"))
    yield mock
    mock.close()
    live.stop()
    live.app.extensions["mock_idp"].close()  # stops its notification delivery thread


@pytest.fixture(scope="module")
def app_key():
    """An RSA app key pair of the test module's own, as a merchant generates one."""
    return signing.generate_private_key()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """SQLite by default; a throw-away PostgreSQL database when MINIFIN_TEST_DATABASE_URL is set."""
    if not os.environ.get("MINIFIN_TEST_DATABASE_URL"):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'minifin.sqlite3'}"
        return
    with temporary_postgres_database(os.environ["MINIFIN_TEST_DATABASE_URL"]) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_url(request, tmp_path) -> Iterator[str]:
    """Each engine in turn, on an empty database; PostgreSQL skips only when unreachable."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'minifin.sqlite3'}"
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip("PostgreSQL is not reachable (set MINIFIN_TEST_DATABASE_URL)")
    with temporary_postgres_database(base) as url:
        yield url


@contextmanager
def migrated_app(
    app_env: dict[str, str], database_url: str, *, contributions=None, **settings: str
) -> Iterator:
    """A Minifin app of a test's own on `database_url`, migrated, with `MINIFIN_*` overrides
    (and, if given, wired with these contributions); its gateway client closed and its
    connections disposed afterwards."""
    from flask_migrate import upgrade

    from service import MIGRATIONS_DIR, create_app
    from service.extensions import db

    application = create_app(
        {**app_env, "MINIFIN_DATABASE_URL": database_url, **settings}, contributions=contributions
    )
    with application.app_context():
        upgrade(directory=MIGRATIONS_DIR)
    try:
        yield application
    finally:
        application.extensions["minifin"].gateway.close()
        with application.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def mock(mock_idp):
    """The session's mock through the control helpers of tests/mock_idp_helpers.MockIdp."""
    from tests.mock_idp_helpers import MockIdp

    helpers = MockIdp(mock_idp)
    yield helpers
    helpers.close()


@pytest.fixture(scope="session")
def platform_public_key(mock_idp) -> str:
    return httpx.get(f"{mock_idp.url}/_mock/platform-key").json()["public_key_pem"]


@pytest.fixture(scope="session")
def app_env(tmp_path_factory, database_url, mock_idp, platform_public_key) -> dict[str, str]:
    """The MINIFIN_* variables of the test app, with keys made for this session."""
    instance = tmp_path_factory.mktemp("instance")
    write_keys(instance / "keys.json", new_keys_document(dev=True))
    app_key = signing.generate_private_key()
    (instance / "app-private-key.pem").write_text(signing.private_key_pem(app_key, dev=True))
    (instance / "platform-public-key.pem").write_text(platform_public_key)
    response = httpx.post(
        f"{mock_idp.url}/_mock/apps",
        json={"app_id": APP_ID, "public_key": signing.public_key_pem(app_key)},
    )
    response.raise_for_status()
    return {
        "MINIFIN_PROFILE": "test",
        "MINIFIN_INSTANCE_DIR": str(instance),
        "MINIFIN_DATABASE_URL": database_url,
        "MINIFIN_GATEWAY_URL": f"{mock_idp.url}/gateway.do",
        "MINIFIN_MOCK_IDP_URL": mock_idp.url,
        "MINIFIN_APP_ID": APP_ID,
    }


@pytest.fixture(scope="session")
def app(app_env):
    """The Minifin app on a migrated database."""
    from flask_migrate import upgrade

    from service import MIGRATIONS_DIR, create_app

    application = create_app(app_env)
    with application.app_context():
        upgrade(directory=MIGRATIONS_DIR)
    yield application
    application.extensions["minifin"].gateway.close()


@pytest.fixture(autouse=True)
def _empty_tables_after_test(request) -> Iterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    from service.extensions import db, limiter

    with application.app_context():
        tables = [t for t in db.metadata.sorted_tables if t.name != "alembic_version"]
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                db.session.execute(table.delete())
        db.session.commit()
        limiter.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def mock_control(mock_idp) -> Iterator[httpx.Client]:
    """An HTTP client for the mock's control API; clears injected faults afterwards."""
    with httpx.Client(base_url=mock_idp.url, timeout=10) as control:
        yield control
        control.delete("/_mock/faults")


@pytest.fixture(scope="session")
def demo_users(mock_idp) -> list[dict]:
    body = httpx.get(f"{mock_idp.url}/_mock/users").json()
    return body["users"] if isinstance(body, dict) else body


def auth_code(mock_url: str, user_id: str, scopes: tuple[str, ...] = ("auth_user",)) -> str:
    """What `my.getAuthCode` would hand the mini-program for this user."""
    response = httpx.post(
        f"{mock_url}/_mock/auth-codes",
        json={"app_id": APP_ID, "user_id": user_id, "scopes": list(scopes)},
    )
    response.raise_for_status()
    return response.json()["auth_code"]


@pytest.fixture
def login(client, mock_idp, demo_users):
    """Log a demo user in through the public API; returns the token response body."""

    def _login(user_index: int = 0, scopes: tuple[str, ...] = ("auth_user",)) -> dict:
        code = auth_code(mock_idp.url, demo_users[user_index]["user_id"], scopes)
        response = client.post("/v1/sessions", json={"auth_code": code})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return _login


def engine_name() -> str:
    """The database engine this run's tests use."""
    return "postgresql" if os.environ.get("MINIFIN_TEST_DATABASE_URL") else "sqlite"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def pytest_report_header(config) -> str:
    """Name the database engine, so SQLite and PostgreSQL runs are told apart."""
    engine = engine_name()
    return f"minifin database engine: {engine}"
