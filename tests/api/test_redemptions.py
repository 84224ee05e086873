"""Redeeming at a till: an item once, stored value never below zero, even when tills race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from service.components import field_cipher
from service.extensions import db
from service.gifting.models import Voucher, VoucherLedgerEntry
from tests.conftest import bearer
from tests.gifting_helpers import COFFEE, claim_token_of, client_token, sent_gift

CARD = {**COFFEE, "name": "Coffee card", "kind": "stored_value", "face_value_fen": 10000,
        "price_fen": 9500}  # fmt: skip


@pytest.fixture
def till(app, client):
    return bearer(client_token(app, client, "vouchers:redeem"))


def _claimed_codes(app, client, template, people, mock_idp) -> list[str]:
    gift = sent_gift(app, client, template, people, mock_idp)
    token = claim_token_of(app, gift["id"])
    assert client.post(f"/v1/claims/{token}", headers=people["friend"]).status_code == 200
    wallet = client.get("/v1/vouchers", headers=people["friend"]).get_json()["data"]
    return [
        client.get(f"/v1/vouchers/{v['id']}", headers=people["friend"]).get_json()["code"]
        for v in wallet
    ]


@pytest.fixture
def card_template(app, client):
    merchant = bearer(client_token(app, client, "templates:write"))
    return client.post("/v1/voucher-templates", json=CARD, headers=merchant).get_json()


def _redeem(client, till, code, key, **body):
    return client.post(
        f"/v1/vouchers/{code}/redemptions",
        json={"store_id": "store-7", **body},
        headers={**till, "Idempotency-Key": key},
    )


def test_an_item_voucher_redeems_once(app, client, template, people, mock_idp, till):
    code = _claimed_codes(app, client, template, people, mock_idp)[0]

    first = _redeem(client, till, code, "r1")
    second = _redeem(client, till, code, "r2")

    assert first.status_code == 201
    assert first.get_json()["redeemed_fen"] == 3200
    assert first.get_json()["balance_after_fen"] == 0
    assert second.status_code == 409
    assert second.get_json()["code"] == "voucher_already_redeemed"


def test_fifty_tills_racing_for_one_item_voucher_redeem_it_once(
    app, client, template, people, mock_idp, till
):
    code = _claimed_codes(app, client, template, people, mock_idp)[0]
    statuses: list[int] = []

    def till_attempt(n: int) -> None:
        statuses.append(_redeem(app.test_client(), till, code, f"race-{n}").status_code)

    threads = [threading.Thread(target=till_attempt, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses.count(201) == 1
    assert statuses.count(409) == 49
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(VoucherLedgerEntry)) == 1


def test_stored_value_is_spent_down_and_never_overdrawn_under_concurrency(
    app, client, card_template, people, mock_idp, till
):
    code = _claimed_codes(app, client, card_template, people, mock_idp)[0]
    statuses: list[int] = []

    def spend(n: int) -> None:
        response = _redeem(app.test_client(), till, code, f"spend-{n}", amount_fen=1500)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=spend, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses.count(201) == 6  # 6 × 15.00 = 90.00 of 100.00
    assert statuses.count(409) == 14
    last = _redeem(client, till, code, "last", amount_fen=1000)
    assert last.get_json()["balance_after_fen"] == 0
    with app.app_context():
        ledger = list(
            db.session.scalars(db.select(VoucherLedgerEntry).order_by(VoucherLedgerEntry.id))
        )
        voucher = db.session.scalars(
            db.select(Voucher).where(Voucher.id == ledger[0].voucher_id)
        ).one()
    assert [entry.balance_after_fen for entry in ledger] == [8500, 7000, 5500, 4000, 2500, 1000, 0]
    assert voucher.status == "spent"


def test_a_retried_redemption_is_replayed_not_repeated(
    app, client, card_template, people, mock_idp, till
):
    code = _claimed_codes(app, client, card_template, people, mock_idp)[0]

    first = _redeem(client, till, code, "same", amount_fen=2000)
    again = _redeem(client, till, code, "same", amount_fen=2000)

    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["balance_after_fen"] == 8000


@pytest.mark.parametrize(
    ("code", "status", "problem"),
    [
        ("NOT-A-CODE", 422, "voucher_code_malformed"),
        ("0000000000000000" + "0", 404, "voucher_not_found"),
    ],
)
def test_bad_codes_are_refused_clearly(client, till, code, status, problem):
    response = _redeem(client, till, code, "k")
    assert response.status_code == status
    assert response.get_json()["code"] == problem


def test_expired_and_unclaimed_vouchers_are_refused(app, client, template, people, mock_idp, till):
    code = _claimed_codes(app, client, template, people, mock_idp)[0]
    with app.app_context():
        db.session.execute(db.update(Voucher).values(expires_at=datetime.now(UTC) - timedelta(1)))
        db.session.commit()
    expired = _redeem(client, till, code, "late")
    assert expired.status_code == 410 and expired.get_json()["code"] == "voucher_expired"

    unclaimed = sent_gift(app, client, template, people, mock_idp)
    with app.app_context():
        voucher = db.session.scalars(
            db.select(Voucher).where(Voucher.gift_id == unclaimed["id"])
        ).first()
        raw = field_cipher().open(voucher.code_sealed, owner=voucher.id)
    response = _redeem(client, till, raw, "early")
    assert response.status_code == 409 and response.get_json()["code"] == "voucher_not_claimed"


def test_a_client_without_the_scope_cannot_redeem(app, client):
    no_scope = bearer(client_token(app, client, "templates:write"))
    assert _redeem(client, no_scope, "X", "k").status_code == 403
