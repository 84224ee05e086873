"""`minifin db upgrade`, `minifin clients create` and `minifin seed` against a real app setup."""

from __future__ import annotations

import re

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect

from service.cli import main


@pytest.fixture
def fresh_env(app_env, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    for key, value in {**app_env, "MINIFIN_DATABASE_URL": url}.items():
        monkeypatch.setenv(key, value)
    return url


def test_db_upgrade_creates_the_schema(fresh_env):
    result = CliRunner().invoke(main, ["db", "upgrade"])

    assert result.exit_code == 0, result.output
    tables = set(inspect(create_engine(fresh_env)).get_table_names())
    assert {"users", "login_sessions", "refresh_tokens", "merchant_clients"} <= tables


def test_clients_create_prints_a_secret_that_gets_a_token(fresh_env):
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    result = CliRunner().invoke(
        main, ["clients", "create", "Back office", "--scope", "templates:write"]
    )
    assert result.exit_code == 0, result.output
    client_id = re.search(r"client_id:\s+(\S+)", result.output).group(1)
    secret = re.search(r"client_secret:\s+(\S+)", result.output).group(1)

    from service import create_app

    fresh = create_app().test_client()
    token = fresh.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert token.status_code == 200
    assert token.get_json()["scope"] == "templates:write"


def test_clients_create_refuses_unknown_scopes(fresh_env):
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    result = CliRunner().invoke(main, ["clients", "create", "x", "--scope", "root"])

    assert result.exit_code != 0
    assert "Unknown or missing scopes: root" in result.output


def test_seed_registers_the_app_with_the_mock(fresh_env, mock_idp, app_env):
    result = CliRunner().invoke(main, ["seed"])

    assert result.exit_code == 0, result.output
    app = httpx.get(f"{mock_idp.url}/_mock/apps/{app_env['MINIFIN_APP_ID']}").json()
    assert app["app_id"] == app_env["MINIFIN_APP_ID"]


def test_jobs_list_and_requeue_work_on_dead_jobs(fresh_env):
    from service import create_app
    from service.extensions import db
    from service.scheduler.models import DEAD, PENDING, OutboxJob

    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    app = create_app()
    with app.app_context():
        db.session.add(OutboxJob(kind="gateway.refund", payload={}, status=DEAD, attempts=8,
                                 max_attempts=8, last_error="RuntimeError: refused"))  # fmt: skip
        db.session.commit()

    listed = CliRunner().invoke(main, ["jobs", "list"])
    assert listed.exit_code == 0, listed.output
    assert "gateway.refund" in listed.output and "RuntimeError: refused" in listed.output
    assert "1 dead job(s)" in listed.output

    assert CliRunner().invoke(main, ["jobs", "requeue"]).exit_code != 0
    requeued = CliRunner().invoke(main, ["jobs", "requeue", "--all-dead"])
    assert "requeued 1 job(s)" in requeued.output
    with app.app_context():
        job = db.session.scalars(db.select(OutboxJob)).one()
        assert (job.status, job.attempts) == (PENDING, 0)
