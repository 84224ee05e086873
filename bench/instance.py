"""A throw-away Minifin for the bench: instance files, a migrated database, the mock IdP, logins.

Everything real runs as in production: keys made by `service.devserver`, the database migrated by
the real migrations (SQLite in the temporary directory, or a PostgreSQL database created for this
run and dropped at its end), the mock identity provider as its own process, Minifin under gunicorn.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bench import HOST, BenchFailed, progress
from bench.servers import free_port, gunicorn_argv, serve

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Minifin:
    """A prepared instance: the variables its servers share, and where its mock IdP listens."""

    env: dict[str, str]
    mock_url: str
    app_id: str
    session_check_seconds: float


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """Our environment minus MINIFIN_* (the shell must not steer the bench), plus `extra`."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MINIFIN_")}
    return {**inherited, "PYTHONUNBUFFERED": "1", **extra}


def database_url(stack: contextlib.ExitStack, kind: str, tmp: Path, postgres_url: str) -> str:
    """SQLite in `tmp`, or a throw-away PostgreSQL database dropped when `stack` closes."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'minifin.sqlite3'}"
    return stack.enter_context(temporary_postgres_database(postgres_url))


@contextlib.contextmanager
def temporary_postgres_database(base_url: str) -> Iterator[str]:
    """Create an empty `minifin_bench_<hex>` database on the server at `base_url`, then drop it."""
    url = make_url(base_url).set(drivername="postgresql+psycopg")
    name = f"minifin_bench_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as exc:
        admin.dispose()
        raise BenchFailed(f"PostgreSQL at {url.host}:{url.port}: {exc}") from exc
    progress(f"created the throw-away database {name} on {url.host}:{url.port}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            progress(f"dropped {name}")
        except SQLAlchemyError as exc:
            raise BenchFailed(f"could not drop the throw-away database {name}: {exc}") from exc
        finally:
            admin.dispose()


def describe_database(url: str) -> str:
    """Which database Minifin runs on, for the report's header."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return "SQLite (a file in the temporary directory)"
    return f"a throw-away PostgreSQL database ({parsed.database} on {parsed.host}:{parsed.port})"


# The server settings that move a burst's figures most, printed with them: with a buffer pool
# smaller than a burst writes, backends write dirty pages out themselves mid-burst (and more
# rows, such as the events', mean more of that), so runs on servers set up differently differ.
SERVER_SETTINGS = ("server_version", "shared_buffers", "max_wal_size", "synchronous_commit",
                   "autovacuum")  # fmt: skip


def server_settings(url: str) -> dict[str, str]:
    """`SHOW` of SERVER_SETTINGS on the PostgreSQL server at `url`."""
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as connection:
            return {name: connection.execute(text(f"SHOW {name}")).scalar_one()
                    for name in SERVER_SETTINGS}  # fmt: skip
    finally:
        engine.dispose()


def start_minifin(stack: contextlib.ExitStack, tmp: Path, database: str) -> Minifin:
    """Keys, the migrated database and the mock identity provider (stopped when `stack` closes)."""
    mock_port = free_port()
    mock_url = f"http://{HOST}:{mock_port}"
    env = child_env(
        {
            "MINIFIN_PROFILE": "dev",
            "MINIFIN_INSTANCE_DIR": str(tmp / "instance"),
            "MINIFIN_DATABASE_URL": database,
            "MINIFIN_GATEWAY_URL": f"{mock_url}/gateway.do",
            "MINIFIN_MOCK_IDP_URL": mock_url,
            "MINIFIN_LOGIN_RATE_LIMIT": "100000 per minute",
            "MINIFIN_LOG_LEVEL": "WARNING",
        }
    )
    progress(f"preparing an instance (keys, migrating {make_url(database).get_backend_name()})")
    settings = prepare_instance(env)
    mock_argv = [sys.executable, "-m", "service.cli", "mock-idp", "--port", str(mock_port),
                 "--data-dir", str(tmp / "instance" / "mock-idp")]  # fmt: skip
    serve(stack, mock_argv, env, tmp / "mock-idp.log", f"{mock_url}/_mock/platform-key")
    register_app(settings)
    return Minifin(env, mock_url, settings.app_id, settings.session_check_seconds)


def serve_minifin(
    stack: contextlib.ExitStack, minifin: Minifin, log: Path, workers: int, threads: int, **env
) -> int:
    """One Minifin API under gunicorn on a fresh port, `env` overriding the instance's variables."""
    return serve_minifin_process(stack, minifin, log, workers, threads, **env)[0]


def serve_minifin_process(
    stack: contextlib.ExitStack, minifin: Minifin, log: Path, workers: int, threads: int, **env
) -> tuple[int, subprocess.Popen]:
    """`serve_minifin`, also answering gunicorn's process (to read its CPU time)."""
    port = free_port()
    argv = gunicorn_argv("service.wsgi:app", port, workers, threads)
    process = serve(stack, argv, {**minifin.env, **env}, log, f"http://{HOST}:{port}/healthz")
    return port, process


def prepare_instance(env: dict[str, str]):
    """Keys, the app key pair, the mock's platform key and a migrated database."""
    # Imported here: run as `python bench/api.py`, the repository root joins sys.path first.
    from config import load_settings
    from service import devserver

    with contextlib.redirect_stdout(io.StringIO()):
        devserver.prepare_instance(Path(env["MINIFIN_INSTANCE_DIR"]))
    settings = load_settings(env)
    devserver.migrate_database(settings)
    return settings


def register_app(settings) -> None:
    """Tell the mock identity provider our app id and public key."""
    from service import devserver

    devserver.register_with_mock(settings)


# --- logins -----------------------------------------------------------------------------------


def first_user(control: httpx.Client) -> str:
    """The first demo user the mock knows."""
    body = control.get("/_mock/users").json()
    users = body["users"] if isinstance(body, dict) else body
    return users[0]["user_id"]


def log_in(api: httpx.Client, control: httpx.Client, app_id: str, user_id: str):
    """One full login: an auth code from the mock (untimed), then a timed `POST /v1/sessions`."""
    code = control.post(
        "/_mock/auth-codes", json={"app_id": app_id, "user_id": user_id, "scopes": ["auth_user"]}
    )
    if code.status_code != 201:
        raise BenchFailed(f"mock auth code: HTTP {code.status_code} {code.text[:200]}")
    started = time.perf_counter()
    response = api.post("/v1/sessions", json={"auth_code": code.json()["auth_code"]})
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 201:
        raise BenchFailed(f"login: HTTP {response.status_code} {response.text[:300]}")
    return response.json(), elapsed_ms


@contextlib.contextmanager
def login_clients(api_url: str, mock_url: str):
    """Keep-alive HTTP clients for the API and for the mock's control API."""
    with (
        httpx.Client(base_url=api_url, timeout=30) as api,
        httpx.Client(base_url=mock_url, timeout=30) as control,
    ):
        yield api, control


def access_token(minifin: Minifin, port: int) -> str:
    """A valid user access token, from one login."""
    with login_clients(f"http://{HOST}:{port}", minifin.mock_url) as (api, control):
        return log_in(api, control, minifin.app_id, first_user(control))[0]["access_token"]


def time_logins(minifin: Minifin, port: int, count: int) -> list[float]:
    """Milliseconds of `count` sequential full logins."""
    with login_clients(f"http://{HOST}:{port}", minifin.mock_url) as (api, control):
        user_id = first_user(control)
        return [log_in(api, control, minifin.app_id, user_id)[1] for _ in range(count)]


def expect_ok(port: int, path: str, headers: dict[str, str]) -> None:
    """One GET that must answer 200 before the load starts, so a wrong setup fails with a reason."""
    response = httpx.get(f"http://{HOST}:{port}{path}", headers=headers, timeout=30)
    if response.status_code != 200:
        raise BenchFailed(
            f"GET {path} on :{port}: HTTP {response.status_code} {response.text[:300]}"
        )
