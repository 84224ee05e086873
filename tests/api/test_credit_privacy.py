"""A credit score is nowhere at Minifin: not in the database (rows, and for SQLite the file's
bytes), not in the logs; where the legacy raw score is enabled it reaches only the merchant
client that asked. The name and ID number a check sends the platform are not logged or answered.
"""

from __future__ import annotations

import logging
import re
import secrets
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from service.credit.models import CreditConsent
from service.extensions import db
from service.gateway import signing
from tests.conftest import APP_ID, bearer
from tests.credit_helpers import (
    SCORE,
    CreditProfiles,
    calls_of,
    check,
    grant,
    last_call_id,
    rows_holding,
    whole_number,
)
from tests.gifting_helpers import client_token
from tests.identity_helpers import ZHANG_WEI, verify

# Scores no test sets by chance, so finding one means it leaked (thresholds used here differ).
CHECKED_SCORE, RAW_SCORE = 731, 913


@pytest.fixture
def credit_of(mock_idp):
    profiles = CreditProfiles(mock_idp.url)
    yield profiles.change
    profiles.restore()


@pytest.fixture
def raw_score_app(app, app_env, mock_idp):
    """A second app on the same database, configured for the raw score, whose mock app record
    is granted it; the grant is taken back afterwards (the mock is shared by the session)."""
    from service import create_app

    key_file = Path(app_env["MINIFIN_INSTANCE_DIR"]) / "app-private-key.pem"
    public_key = signing.public_key_pem(signing.load_private_key(key_file.read_text()))

    def register(raw_score: bool) -> None:
        httpx.post(
            f"{mock_idp.url}/_mock/apps",
            json={"app_id": APP_ID, "public_key": public_key, "raw_score": raw_score},
        ).raise_for_status()

    application = create_app(app_env | {"MINIFIN_CREDIT_RAW_SCORE": "true"})
    register(True)
    yield application
    register(False)
    application.extensions["minifin"].gateway.close()
    with application.app_context():
        db.engine.dispose()


def _sqlite_path(app) -> Path | None:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    return Path(url.database) if url.get_backend_name() == "sqlite" else None


def _database_file_text_holding(app, number: int) -> list[bytes]:
    """For SQLite, where the number sits in the database file (and its WAL) as text would: in
    JSON, a log line, a stored response; a binary integer column is found by the row scan."""
    path = _sqlite_path(app)
    if path is None:
        return []
    with app.app_context():
        db.session.execute(db.text("PRAGMA wal_checkpoint(PASSIVE)"))
        db.session.commit()
    stored = b"".join(
        candidate.read_bytes() for candidate in (path, Path(f"{path}-wal")) if candidate.exists()
    )
    pattern = re.compile(rb'(?<=[ :"=,\[(])' + str(number).encode() + rb'(?=[ ,}"\])\n])')
    return [stored[max(0, m.start() - 40) : m.end() + 40] for m in pattern.finditer(stored)]


def _logs(caplog, *, numbers: bool = False) -> str:
    """The captured log lines, but the mock's own (it runs in this process, as the platform).

    For a number, also without httpcore's traces, whose Content-Length headers are numbers that
    may equal a score by chance; they carry no bodies.
    """
    skipped = ("service.mock_idp", "httpcore") if numbers else ("service.mock_idp",)
    return "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith(skipped)
    )


def _login(client, mock_idp, platform_id: str) -> dict:
    from tests.conftest import auth_code

    body = client.post(
        "/v1/sessions", json={"auth_code": auth_code(mock_idp.url, platform_id)}
    ).get_json()
    return {"token": body["access_token"], "id": body["user"]["id"], "platform_id": platform_id}


def _read_score(client, merchant, user_id, key=None, purpose="credit_check"):
    headers = {**merchant, "Idempotency-Key": key or secrets.token_hex(8)}
    return client.post(
        f"/v1/users/{user_id}/credit/score", json={"purpose": purpose}, headers=headers
    )


def test_the_raw_score_reaches_the_asking_client_only_and_is_kept_nowhere(
    app, raw_score_app, mock_idp, demo_users, credit_of, caplog
):
    client = raw_score_app.test_client()
    platform_id = demo_users[0]["user_id"]
    credit_of(platform_id, zm_score=RAW_SCORE)
    bodies: list[str] = []
    with caplog.at_level(logging.DEBUG):
        person = _login(client, mock_idp, platform_id)
        consent = grant(client, person["token"], mock_idp.url, platform_id)
        assert consent.status_code == 201, consent.get_json()
        merchant = bearer(client_token(raw_score_app, client, "credit:check"))
        before = last_call_id(mock_idp.url)

        response = _read_score(client, merchant, person["id"], key="score-1")
        again = _read_score(client, merchant, person["id"], key="score-1")
        for read in (
            response,
            again,
            client.get(f"/v1/credit/consents/{consent.get_json()['id']}",
                       headers=bearer(person["token"])),
            client.get("/v1/credit/consents", headers=bearer(person["token"])),
            client.get(f"/v1/users/{person['id']}/credit/checks", headers=merchant),
        ):  # fmt: skip
            bodies.append(read.get_data(as_text=True))

    assert response.status_code == 200, response.get_json()
    profile = httpx.get(f"{mock_idp.url}/_mock/users/{platform_id}").json()
    assert response.get_json()["score"] == profile["credit"]["zm_score"] == RAW_SCORE
    assert response.get_json()["user_id"] == person["id"]
    assert response.headers["Cache-Control"] == "no-store"
    # The same key is the same platform transaction (answered once), and nothing is replayed
    # from Minifin's side: the score was not kept for the replay either.
    assert again.get_json()["score"] == RAW_SCORE
    assert len(calls_of(mock_idp.url, SCORE, after=before)) == 2
    events = [e for e in client.get(
        f"/v1/credit/consents/{consent.get_json()['id']}", headers=bearer(person["token"])
    ).get_json()["events"] if e["type"] == "score_disclosed"]  # fmt: skip
    assert [e["detail"] for e in events] == [{"evaluable": True, "purpose": "credit_check"}] * 2

    score = whole_number(RAW_SCORE)
    assert rows_holding(app, score) == []
    assert _database_file_text_holding(app, RAW_SCORE) == []
    assert not score.search(_logs(caplog, numbers=True)), "the score is in the logs"
    assert caplog.records, "no logs were captured, so the log check proves nothing"
    assert [body for body in bodies if score.search(body)] == bodies[:2]
    with app.app_context():
        sealed = db.session.scalar(select(CreditConsent.platform_token_sealed))
        db.session.rollback()
    assert sealed and "authusr" not in sealed, "the platform token is kept sealed"


def test_the_raw_score_of_a_user_who_cannot_be_evaluated_is_null(
    app, raw_score_app, mock_idp, demo_users, credit_of
):
    client = raw_score_app.test_client()
    platform_id = demo_users[0]["user_id"]
    credit_of(platform_id, evaluable=False)
    person = _login(client, mock_idp, platform_id)
    grant(client, person["token"], mock_idp.url, platform_id)
    merchant = bearer(client_token(raw_score_app, client, "credit:check"))

    response = _read_score(client, merchant, person["id"])

    assert response.status_code == 200
    assert response.get_json()["score"] is None


def test_the_raw_score_needs_a_consent_given_while_it_was_enabled_and_stops_on_withdrawal(
    app, client, raw_score_app, mock_idp, demo_users
):
    raw_client = raw_score_app.test_client()
    platform_id = demo_users[0]["user_id"]
    person = _login(raw_client, mock_idp, platform_id)
    merchant = bearer(client_token(raw_score_app, raw_client, "credit:check"))
    # Granted through the app that keeps no platform token.
    grant(client, person["token"], mock_idp.url, platform_id)

    missing = _read_score(raw_client, merchant, person["id"])

    assert missing.status_code == 409
    assert missing.get_json()["code"] == "platform_token_missing"
    consent = grant(raw_client, person["token"], mock_idp.url, platform_id).get_json()
    assert _read_score(raw_client, merchant, person["id"]).status_code == 200
    raw_client.delete(f"/v1/credit/consents/{consent['id']}", headers=bearer(person["token"]))
    withdrawn = _read_score(raw_client, merchant, person["id"])
    assert withdrawn.status_code == 403
    assert withdrawn.get_json()["code"] == "consent_withdrawn"
    with app.app_context():
        tokens = db.session.scalars(select(CreditConsent.platform_token_sealed)).all()
        db.session.rollback()
    assert tokens == [None, None], "withdrawal (and replacement) erase the platform token"
    unknown = _read_score(raw_client, merchant, "usr_doesnotexist")
    assert unknown.status_code == 404
    assert unknown.get_json()["code"] == "user_not_found"


def test_checks_of_every_outcome_keep_no_score_and_never_log_or_answer_the_identity(
    app, client, mock_idp, demo_users, credit_of, caplog
):
    platform_id = demo_users[0]["user_id"]
    credit_of(platform_id, zm_score=CHECKED_SCORE)
    merchant = bearer(client_token(app, client, "credit:check"))
    bodies: list[str] = []

    def keep(response):
        bodies.append(response.get_data(as_text=True))
        return response

    with caplog.at_level(logging.DEBUG):
        person = _login(client, mock_idp, platform_id)
        verify(client, person["token"], mock_idp.url, ZHANG_WEI)
        consent = keep(grant(client, person["token"], mock_idp.url, platform_id)).get_json()
        outcomes = [
            keep(check(client, person["token"], threshold=700)).get_json()["outcome"],
            keep(check(client, person["token"], threshold=800)).get_json()["outcome"],
        ]
        credit_of(platform_id, evaluable=False)
        headers = {**merchant, "Idempotency-Key": secrets.token_hex(8)}
        outcomes.append(keep(client.post(
            f"/v1/users/{person['id']}/credit/checks", json={"purpose": "credit_check"},
            headers=headers,
        )).get_json()["outcome"])  # fmt: skip
        keep(client.get("/v1/credit/checks", headers=bearer(person["token"])))
        keep(client.get(f"/v1/users/{person['id']}/credit/checks", headers=merchant))
        keep(client.get(f"/v1/credit/consents/{consent['id']}", headers=bearer(person["token"])))
        keep(client.get("/v1/credit/consents", headers=bearer(person["token"])))
        keep(client.get("/v1/identity", headers=bearer(person["token"])))

    assert outcomes == ["admitted", "not_admitted", "not_evaluable"]
    # The scans do see what is stored: the thresholds, in rows and (as JSON) in the file.
    assert rows_holding(app, whole_number(800))
    assert _database_file_text_holding(app, 800) or _sqlite_path(app) is None
    score = whole_number(CHECKED_SCORE)
    assert rows_holding(app, score) == []
    assert _database_file_text_holding(app, CHECKED_SCORE) == []
    assert not any(score.search(body) for body in bodies)
    logs = _logs(caplog)
    assert caplog.records, "no logs were captured, so the log check proves nothing"
    assert "brief.get" in logs, "the check's gateway calls were not logged"
    assert not score.search(_logs(caplog, numbers=True)), "the score is in the logs"
    for secret in (ZHANG_WEI["name"], ZHANG_WEI["id_number"]):
        assert secret not in logs, f"{secret!r} is in the logs"
    assert not any(ZHANG_WEI["id_number"] in body for body in bodies), "a raw ID number answered"
    assert not any(ZHANG_WEI["name"] in body for body in bodies), "a real name answered"
