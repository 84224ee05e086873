"""A redemption's Idempotency-Key is kept on the redemption itself, so it outlives the key record.

The idempotency record is only a cache of answers: it is taken over when a first attempt stalls
past five minutes (a crash after the debit committed leaves it `started`) and deleted after 24
hours. Each test ages that record in the database, as the clock and a crash would, and retries.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from service.auth.clients import create_client
from service.dbtypes import utcnow
from service.extensions import db
from service.gifting import redemptions
from service.gifting.models import Voucher, VoucherLedgerEntry
from service.idempotency import STARTED, IdempotencyRecord
from tests.api.test_redemptions import CARD, _claimed_codes, _redeem
from tests.conftest import bearer
from tests.gifting_helpers import client_token


@pytest.fixture
def till(app, client):
    return bearer(client_token(app, client, "vouchers:redeem"))


@pytest.fixture
def card_template(app, client):
    merchant = bearer(client_token(app, client, "templates:write"))
    return client.post("/v1/voucher-templates", json=CARD, headers=merchant).get_json()


def _crashed_after_the_debit(app) -> None:
    """What a process killed between the debit's commit and storing its answer leaves, 6 min on."""
    with app.app_context():
        db.session.execute(
            db.update(IdempotencyRecord).values(
                state=STARTED, response_status=None, response_body=None,
                started_at=utcnow() - timedelta(minutes=6),
            )
        )  # fmt: skip
        db.session.commit()


def _record_expired(app) -> None:
    """The key record 25 hours on: past its 24 h, so the next request with the key deletes it."""
    with app.app_context():
        earlier = utcnow() - timedelta(hours=25)
        db.session.execute(
            db.update(IdempotencyRecord).values(started_at=earlier, expires_at=earlier)
        )
        db.session.commit()


AGEING = pytest.mark.parametrize(
    "age_the_key_record",
    [_crashed_after_the_debit, _record_expired],
    ids=["stalled_past_the_takeover", "expired_after_24_hours"],
)


def _ledger(app) -> list[tuple[int, int]]:
    with app.app_context():
        return [
            (entry.amount_fen, entry.balance_after_fen)
            for entry in db.session.scalars(db.select(VoucherLedgerEntry))
        ]


def _balances(app) -> list[int]:
    """The gift's two cards, lowest balance first."""
    with app.app_context():
        return sorted(db.session.scalars(db.select(Voucher.balance_fen)))


@AGEING
def test_a_retry_after_the_key_record_went_stale_answers_the_earlier_redemption(
    app, client, card_template, people, mock_idp, till, age_the_key_record
):
    code = _claimed_codes(app, client, card_template, people, mock_idp)[0]
    first = _redeem(client, till, code, "till-7-sale-1", amount_fen=2000)
    assert first.status_code == 201
    age_the_key_record(app)

    again = _redeem(client, till, code, "till-7-sale-1", amount_fen=2000)
    age_the_key_record(app)
    third = _redeem(client, till, code, "till-7-sale-1", amount_fen=2000)

    assert again.status_code == third.status_code == 201
    assert again.get_json() == third.get_json() == first.get_json()
    assert _ledger(app) == [(2000, 8000)]
    assert _balances(app) == [8000, 10000]


@AGEING
def test_a_retry_with_another_body_after_the_key_record_went_stale_is_refused(
    app, client, card_template, people, mock_idp, till, age_the_key_record
):
    first_code, other_code = _claimed_codes(app, client, card_template, people, mock_idp)[:2]
    assert _redeem(client, till, first_code, "sale-9", amount_fen=2000).status_code == 201
    changed = [
        {"code": first_code, "amount_fen": 3000},
        {"code": first_code, "amount_fen": 2000, "store_id": "store-8"},
        {"code": other_code, "amount_fen": 2000},
        {"code": "NOT-A-CODE", "amount_fen": 2000},
    ]

    answers = []
    for body in changed:
        age_the_key_record(app)
        answers.append(_redeem(client, till, key="sale-9", **body))

    assert [(a.status_code, a.get_json()["code"]) for a in answers] == [
        (422, "idempotency_key_reused")
    ] * len(changed)
    assert _ledger(app) == [(2000, 8000)]


def test_the_same_key_from_two_tills_is_two_redemptions(
    app, client, card_template, people, mock_idp, till
):
    code = _claimed_codes(app, client, card_template, people, mock_idp)[0]
    other_till = bearer(client_token(app, client, "vouchers:redeem"))

    mine = _redeem(client, till, code, "sale-1", amount_fen=1000)
    theirs = _redeem(client, other_till, code, "sale-1", amount_fen=1000)

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert theirs.get_json()["balance_after_fen"] == 8000


def test_two_retries_racing_past_the_key_record_debit_once(
    app, client, card_template, people, mock_idp, monkeypatch
):
    """Both calls look the key up before either has written (a barrier holds them just after
    the lookup); the redemption's unique key turns the second debit back, and it is answered
    with the first."""
    code = _claimed_codes(app, client, card_template, people, mock_idp)[0]
    with app.app_context():
        till_client, _ = create_client("till", ["vouchers:redeem"])
    both_looked = threading.Barrier(2, timeout=10)
    looked_up, first_lookup_done = redemptions._earlier_redemption, threading.local()
    results: list[object] = []

    def held_after_the_first_lookup(*args):
        earlier = looked_up(*args)
        if not getattr(first_lookup_done, "value", False):
            first_lookup_done.value = True
            both_looked.wait()
        return earlier

    def redeem_once() -> None:
        with app.app_context():
            try:
                results.append(redemptions.redeem(code, 2000, "store-7", till_client.id, "k"))
            except Exception as error:  # reported by the assertion below
                results.append(error)

    monkeypatch.setattr(redemptions, "_earlier_redemption", held_after_the_first_lookup)
    threads = [threading.Thread(target=redeem_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert [type(r) for r in results] == [redemptions.Redemption] * 2, results
    assert results[0] == results[1]
    assert _ledger(app) == [(2000, 8000)]
    assert _balances(app) == [8000, 10000]
