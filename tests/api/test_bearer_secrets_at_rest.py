"""No bearer secret in clear anywhere: claim tokens and voucher codes, after real gifts.

Minifin runs on a loopback port (real HTTP, werkzeug's access log, the live mock as the gateway).
Gifts are bought, paid, sent with their messages, previewed, claimed, their codes typed in the
wrong place and redeemed. Then every token and code issued is looked for in every file of the
database (SQLite's main file, `-wal` and `-shm`; PostgreSQL's data files of the database and its
write-ahead log, when the server's directory is readable here), in every table as text, in the
outbox, and in everything logged.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from service.access_log import SECRET_CONVERTER, redact
from service.components import field_cipher
from service.extensions import db
from service.gifting.models import Gift, Voucher
from service.gifting.sending import send_due_gifts
from service.scheduler.models import OutboxJob
from tests.conftest import auth_code, bearer, migrated_app
from tests.gifting_helpers import COFFEE, client_token, order, run_outbox_now
from tests.live_server import LiveServer


@pytest.fixture
def own_app(app_env, any_database_url):
    """Minifin on a database of this test's own (each engine in turn)."""
    with migrated_app(app_env, any_database_url) as application:
        yield application


@pytest.fixture
def api(own_app):
    with LiveServer(own_app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def _login(api, mock_idp, user: dict) -> dict[str, str]:
    code = auth_code(mock_idp.url, user["user_id"], ("auth_user",))
    response = api.post("/v1/sessions", json={"auth_code": code})
    assert response.status_code == 201, response.text
    return bearer(response.json()["access_token"])


def _buy_and_pay(api, mock_idp, sender, template, recipient) -> dict:
    body = order(template, {"friend_id": None}, recipient=recipient, quantity=2)
    response = api.post("/v1/gifts", json=body,
                        headers={**sender, "Idempotency-Key": secrets.token_hex(8)})  # fmt: skip
    assert response.status_code == 201, response.text
    httpx.post(f"{mock_idp.url}/_mock/trades/{response.json()['trade_no']}/pay").raise_for_status()
    return response.json()


def _send_everything_due(app, gift_ids: list[str]) -> None:
    run_outbox_now(app)  # the payments are found by reconciliation
    with app.app_context():
        db.session.execute(db.update(Gift).where(Gift.id.in_(gift_ids))
                           .values(send_at=datetime.now(UTC) - timedelta(seconds=1)))  # fmt: skip
        db.session.commit()
        assert send_due_gifts("test-worker", 100) == len(gift_ids)
    run_outbox_now(app)  # the messages


def _issued_secrets(app) -> list[str]:
    """Every claim token and voucher code issued, opened from their seals."""
    with app.app_context():
        cipher = field_cipher()
        tokens = [cipher.open(g.claim_token_sealed, owner=g.id)
                  for g in db.session.scalars(db.select(Gift)) if g.claim_token_sealed]  # fmt: skip
        codes = [
            cipher.open(v.code_sealed, owner=v.id) for v in db.session.scalars(db.select(Voucher))
        ]
    return tokens + codes


def _database_files(app) -> list[Path]:
    """The files that hold this database, as far as this process can read them."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":  # read while connections are open: the WAL is kept
        main = Path(url.database)
        return [p for p in main.parent.iterdir() if p.name.startswith(main.name)]
    with app.app_context():
        with db.engine.connect() as connection:
            connection.execute(text("CHECKPOINT"))  # write the database's pages to its files
            data = Path(connection.execute(text("SHOW data_directory")).scalar())
            oid = connection.execute(
                text("SELECT oid FROM pg_database WHERE datname = current_database()")
            ).scalar()
        db.engine.dispose()
    if not os.access(data, os.R_OK):
        return []
    return [p for d in (data / "base" / str(oid), data / "pg_wal") for p in d.rglob("*")
            if p.is_file()]  # fmt: skip


def _every_table_as_text(app) -> str:
    with app.app_context():
        dumps = [
            str(db.session.execute(db.select(table)).all()) for table in db.metadata.sorted_tables
        ]
        db.session.rollback()
    return "\n".join(dumps)


def test_no_claim_token_or_voucher_code_is_written_in_clear_anywhere(
    own_app, api, mock_idp, demo_users, caplog
):
    app, client = own_app, own_app.test_client()
    caplog.set_level(logging.DEBUG)
    merchant = bearer(client_token(app, client, "templates:write"))
    template = client.post("/v1/voucher-templates", json=COFFEE, headers=merchant).get_json()
    till = bearer(client_token(app, client, "vouchers:redeem"))
    sender, friend = _login(api, mock_idp, demo_users[0]), _login(api, mock_idp, demo_users[1])
    friend_id = api.get("/v1/me", headers=friend).json()["id"]
    for_friend = _buy_and_pay(api, mock_idp, sender, template, {"user_id": friend_id})
    by_link = _buy_and_pay(api, mock_idp, sender, template, {"link": True})
    _send_everything_due(app, [for_friend["id"], by_link["id"]])

    link = api.get(f"/v1/gifts/{by_link['id']}", headers=sender).json()
    inbox = httpx.get(f"{mock_idp.url}/_mock/inbox/{demo_users[1]['user_id']}").json()
    (message,) = [m for m in inbox["messages"] if m["form_id"] == for_friend["trade_no"]]
    message_token = message["page"].split("token=", 1)[1]
    for token in (message_token, link["claim_token"]):
        assert api.get(f"/claim/{token}").status_code == 200
        assert api.get(f"/v1/claims/{token}", headers=friend).status_code == 200
        claimed = api.post(f"/v1/claims/{token}", headers=friend)
        assert claimed.status_code == 200, claimed.text
        for voucher in claimed.json()["vouchers"]:
            code = api.get(f"/v1/vouchers/{voucher['id']}", headers=friend).json()["code"]
            assert api.get(f"/v1/vouchers/{code}", headers=friend).status_code == 404  # a slip
            till_key = {**till, "Idempotency-Key": secrets.token_hex(8)}
            redeemed = api.post(
                f"/v1/vouchers/{code}/redemptions", json={"store_id": "s-1"}, headers=till_key
            )
            assert redeemed.status_code == 201, redeemed.text

    issued = _issued_secrets(app)
    assert len(issued) == 2 + 4 and message_token in issued and link["claim_token"] in issued
    with app.app_context():
        payloads = str(db.session.scalars(db.select(OutboxJob.payload)).all())
        db.session.rollback()
    tables = _every_table_as_text(app)
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert any("/v1/vouchers/…/redemptions" in r.getMessage() for r in caplog.records)
    files = _database_files(app)
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "sqlite":
        assert {p.name.rsplit(".sqlite3", 1)[1] for p in files} >= {"", "-wal", "-shm"}
    contents = [(path, path.read_bytes()) for path in files]

    for secret in issued:
        assert secret not in payloads
        assert secret not in tables
        assert secret not in logged, "a bearer secret was logged"
        for path, content in contents:
            assert secret.encode() not in content, f"a bearer secret is in clear in {path}"


_PLACEHOLDER = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_COULD_BE_SECRET = re.compile(r"token|code|secret", re.IGNORECASE)
_SECRET_PREFIXES = ("/claim/", "/v1/claims/", "/v1/vouchers/")  # where codes and tokens are typed


def test_every_route_segment_that_could_hold_a_bearer_secret_is_redacted_in_access_logs(app):
    checked = 0
    for rule in app.url_map.iter_rules():
        values: dict[str, tuple[str, bool]] = {}
        for match in _PLACEHOLDER.finditer(rule.rule):
            secret = match.group("converter") == SECRET_CONVERTER
            could_be = bool(_COULD_BE_SECRET.search(match.group("name"))) or (
                rule.rule.startswith(_SECRET_PREFIXES))  # fmt: skip
            assert secret or not could_be, f"{rule.rule}: mark <{match.group('name')}> secret"
            values[match.group("name")] = (secrets.token_urlsafe(12), secret)
        if not values:
            continue
        path = _PLACEHOLDER.sub(lambda m, v=values: v[m.group("name")][0], rule.rule)
        logged = redact(f"GET {path}?x=1 HTTP/1.1")
        for value, secret in values.values():
            assert (value in logged) is not secret, (rule.rule, logged)
        checked += 1
    assert checked >= 10  # the routes with path parameters were all looked at
