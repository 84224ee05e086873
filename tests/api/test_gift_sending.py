"""Sending at send_at: vouchers issued once, the gift sent once, the friend told once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from service.components import blind_index, field_cipher
from service.extensions import db
from service.gifting import codes
from service.gifting.models import Gift, Voucher
from service.gifting.sending import GIFT_TEMPLATE_ID, seconds_until_next_gift, send_due_gifts
from service.scheduler import outbox
from tests.gifting_helpers import buy, due_gift, messages_about, order, run_outbox_now


@pytest.fixture
def paid_gift(app, client, template, people, mock_idp):
    """A gift bought, paid (found by reconciliation) and due now."""
    return due_gift(app, client, template, people, mock_idp)


def _send(app) -> int:
    with app.app_context():
        return send_due_gifts("test-worker", 100)


def test_a_due_gift_is_sent_with_its_vouchers_and_the_friend_is_told(
    app, client, people, paid_gift, mock_idp, demo_users
):
    assert _send(app) == 1

    gift = client.get(f"/v1/gifts/{paid_gift['id']}", headers=people["sender"]).get_json()
    assert gift["status"] == "sent"
    assert gift["sent_at"] >= gift["paid_at"]
    assert gift["events"][-1]["type"] == "sent"
    with app.app_context():
        vouchers = list(db.session.scalars(db.select(Voucher)))
        outbox.run_due_jobs("test-worker", 100)
    assert len(vouchers) == 2  # the quantity
    for voucher in vouchers:
        with app.app_context():
            code = field_cipher().open(voucher.code_sealed, owner=voucher.id)
            assert voucher.code_index == blind_index().digest("voucher_code", code)
        assert codes.is_well_formed(code)
        assert code not in voucher.code_sealed
        assert voucher.code_last4 == code[-4:]
        assert voucher.balance_fen == voucher.face_value_fen == 3200
    mine = messages_about(mock_idp, demo_users[1]["user_id"], paid_gift, GIFT_TEMPLATE_ID)
    assert len(mine) == 1
    assert mine[0]["page"].startswith("pages/gift/claim?token=")


def test_a_gift_is_sent_once_however_often_or_concurrently_workers_look(app, paid_gift):
    results: list[int] = []

    def worker(name: str) -> None:
        with app.app_context():
            results.append(send_due_gifts(name, 100))

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == [0, 0, 0, 1]
    assert _send(app) == 0
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Voucher)) == 2


def test_a_gift_is_not_sent_before_its_time(app, client, template, people, mock_idp):
    gift = buy(client, people, order(template, people)).get_json()
    httpx.post(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}/pay").raise_for_status()
    run_outbox_now(app)

    assert _send(app) == 0
    with app.app_context():
        wait = seconds_until_next_gift(3600 * 24 * 7)
    assert timedelta(days=2) < timedelta(seconds=wait) <= timedelta(days=3)


def test_an_unpaid_gift_is_never_sent(app, client, template, people):
    gift = buy(client, people, order(template, people)).get_json()
    with app.app_context():
        db.session.execute(db.update(Gift).values(send_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()

    assert _send(app) == 0
    assert (
        client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()["status"]
        == "pending_payment"
    )


@pytest.mark.parametrize("typo", ["swap", "check", "length"])
def test_codes_catch_typing_mistakes(typo):
    code = codes.new_code()
    assert codes.is_well_formed(code)
    assert codes.is_well_formed(codes.normalise(code.lower()[:4] + "-" + code[4:]))
    broken = {
        "swap": code[1] + code[0] + code[2:] if code[0] != code[1] else code[:-2] + "ZZ",
        "check": code[:-1] + ("0" if code[-1] != "0" else "1"),
        "length": code[:-2],
    }[typo]
    assert not codes.is_well_formed(broken)
