"""The raw name and ID number of a verified user are nowhere but in the user's head: not in the
database file, not in the logs, not in any response; after erasure not even their ciphertext."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask_migrate import upgrade

from service.extensions import db
from service.identity.models import Identity
from tests.conftest import auth_code, bearer
from tests.identity_helpers import ZHANG_WEI, finish_scan, start


@pytest.fixture
def private_app(app_env, tmp_path):
    """An app of its own on a fresh SQLite file, whatever engine the suite runs on."""
    from service import MIGRATIONS_DIR, create_app
    from service.extensions import limiter

    database = tmp_path / "privacy.sqlite3"
    application = create_app({**app_env, "MINIFIN_DATABASE_URL": f"sqlite:///{database}"})
    with application.app_context():
        upgrade(directory=MIGRATIONS_DIR)
    application.config["database_path"] = database
    yield application
    with application.app_context():
        db.engine.dispose()
    limiter.reset()


def _database_bytes(path: Path) -> bytes:
    """The database file with its write-ahead log and shared-memory index, as they are on disk."""
    return b"".join(
        candidate.read_bytes()
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
        if candidate.exists()
    )


def _forms(value: str) -> list[bytes]:
    """The ways a value could be stored: UTF-8, UTF-16 (SQLite's other text encoding), escaped."""
    escaped = value.encode("unicode_escape")
    return [value.encode("utf-8"), value.encode("utf-16-le"), escaped, escaped.upper()]


def test_a_verified_identity_is_stored_logged_and_answered_only_masked_and_erased_entirely(
    private_app, mock_idp, demo_users, caplog
):
    client = private_app.test_client()
    bodies: list[bytes] = []

    def keep(response):
        bodies.append(response.get_data())
        return response

    with caplog.at_level(logging.DEBUG):
        login = keep(client.post(
            "/v1/sessions", json={"auth_code": auth_code(mock_idp.url, demo_users[0]["user_id"])}
        ))  # fmt: skip
        token = login.get_json()["access_token"]
        verification = keep(start(client, token)).get_json()
        finish_scan(mock_idp.url, verification, passed=True)
        passed = keep(client.get(
            f"/v1/identity/verifications/{verification['id']}", headers=bearer(token)
        ))  # fmt: skip
        keep(client.get("/v1/identity", headers=bearer(token)))
        keep(client.get("/v1/identity/events", headers=bearer(token)))
        keep(client.get("/openapi.json"))
        assert passed.get_json()["status"] == "passed"

        database = private_app.config["database_path"]
        with private_app.app_context():
            db.session.execute(db.text("PRAGMA wal_checkpoint(PASSIVE)"))
            identity = db.session.get(Identity, login.get_json()["user"]["id"])
            ciphertexts = [identity.name_sealed, identity.id_number_sealed, identity.id_number_hash]
            db.session.rollback()
        stored = _database_bytes(database)
        logs = "\n".join(record.getMessage() for record in caplog.records)

        secrets_ = [ZHANG_WEI["name"], ZHANG_WEI["id_number"]]
        for secret in secrets_:
            for form in _forms(secret):
                assert form not in stored, f"{secret!r} is in the database file"
                assert all(form not in body for body in bodies), f"{secret!r} is in a response"
            assert secret not in logs, f"{secret!r} is in the logs"
        assert all(c.encode() in stored for c in ciphertexts), "the scan does not see the rows"
        assert caplog.records, "no logs were captured, so the log check proves nothing"

        erased = keep(client.delete("/v1/identity", headers=bearer(token)))
        assert erased.get_json()["verified"] is False

    after = _database_bytes(database)
    for ciphertext in ciphertexts:
        assert ciphertext.encode() not in after, "erased ciphertext is still in the database file"
    for secret in secrets_:
        assert all(form not in after for form in _forms(secret))
