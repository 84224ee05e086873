"""`minifin keys rotate --fields`: a new field key, every sealed value re-encrypted in batches,
and an API process that was running all along still reads everything (on both engines)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask_migrate import upgrade
from sqlalchemy import select

from service.cli import main
from service.extensions import db
from service.models import SEALED_COLUMNS
from service.security.keyfiles import read_keys
from tests.conftest import auth_code, bearer
from tests.identity_helpers import WANG_FANG, start, verify


@pytest.fixture
def rotating_env(app_env, any_database_url, tmp_path, monkeypatch):
    """An instance folder (keys included) and a database of this test's own."""
    instance = tmp_path / "instance"
    shutil.copytree(app_env["MINIFIN_INSTANCE_DIR"], instance)
    env = {**app_env, "MINIFIN_INSTANCE_DIR": str(instance),
           "MINIFIN_DATABASE_URL": any_database_url}  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def _sealed_values(app) -> list[str]:
    with app.app_context():
        values = [
            value
            for spec in SEALED_COLUMNS
            for row in db.session.execute(select(*(getattr(spec.model, c) for c in spec.columns)))
            for value in row
            if value is not None
        ]
        db.session.rollback()
    return values


def test_rotating_the_field_key_re_encrypts_everything_and_running_processes_keep_reading(
    rotating_env, mock_idp, demo_users
):
    from service import MIGRATIONS_DIR, create_app
    from service.extensions import limiter

    running = create_app(rotating_env)
    with running.app_context():
        upgrade(directory=MIGRATIONS_DIR)
    client = running.test_client()
    tokens = [
        client.post(
            "/v1/sessions", json={"auth_code": auth_code(mock_idp.url, demo_users[i]["user_id"])}
        ).get_json()["access_token"]
        for i in (0, 1)
    ]
    verify(client, tokens[0], mock_idp.url)
    pending = start(client, tokens[1], WANG_FANG).get_json()
    before = _sealed_values(running)
    assert len(before) == 4 and all(v.startswith("v1.f1.") for v in before)

    result = CliRunner().invoke(
        main, ["keys", "rotate", "--fields", "--batch-size", "1"], catch_exceptions=False
    )

    assert result.exit_code == 0, result.output
    assert "re-encrypting" in result.output
    assert re.search(r"re-encrypted 2 row\(s\); every sealed value now uses f2", result.output)
    keys = read_keys(Path(rotating_env["MINIFIN_INSTANCE_DIR"]) / "keys.json")
    assert keys["fields"]["active"] == "f2" and set(keys["fields"]["keys"]) == {"f1", "f2"}
    after = _sealed_values(running)
    assert len(after) == 4 and all(v.startswith("v1.f2.") for v in after)
    assert not set(after) & set(before)

    identity = client.get("/v1/identity", headers=bearer(tokens[0])).get_json()
    assert (identity["verified"], identity["name"]) == (True, "*伟")
    canceled = client.post(
        f"/v1/identity/verifications/{pending['id']}/cancel", headers=bearer(tokens[1])
    )
    assert canceled.status_code == 200

    again = CliRunner().invoke(main, ["keys", "rotate", "--fields", "--resume"])
    assert again.exit_code == 0, again.output
    assert "re-encrypted 0 row(s)" in again.output
    with running.app_context():
        db.engine.dispose()
    limiter.reset()
