"""Buying a gift: the order, its trade at the mock, payment by notification or reconciliation."""

from __future__ import annotations

import time

import httpx
import pytest

from service.extensions import db
from service.gateway import payments
from service.gifting.models import Gift
from tests import live_server
from tests.conftest import auth_code, bearer
from tests.gifting_helpers import COFFEE, buy, order, run_outbox_now


def _mock_trade(mock_idp, trade_no: str) -> dict:
    return httpx.get(f"{mock_idp.url}/_mock/trades/{trade_no}").json()


def test_buying_a_gift_opens_a_trade_for_the_sender_to_pay(
    client, template, people, mock_idp, demo_users
):
    response = buy(client, people, order(template, people))

    assert response.status_code == 201
    gift = response.get_json()
    assert gift["id"].startswith("gft_")
    assert gift["status"] == "pending_payment"
    assert gift["amount_fen"] == 2 * COFFEE["price_fen"]
    assert gift["recipient"] == {"kind": "user", "user_id": people["friend_id"]}
    assert [e["type"] for e in gift["events"]] == ["created"]
    trade = _mock_trade(mock_idp, gift["trade_no"])
    assert trade["out_trade_no"] == gift["id"]
    assert trade["total_amount"] == "58.00"
    assert trade["buyer_user_id"] == demo_users[0]["user_id"]
    assert trade["trade_status"] == "WAIT_BUYER_PAY"


def test_a_retry_with_the_same_key_is_the_same_gift_and_trade(app, client, template, people):
    body = order(template, people)
    first = buy(client, people, body, key="buy-1").get_json()
    again = buy(client, people, body, key="buy-1").get_json()

    assert again["id"] == first["id"] and again["trade_no"] == first["trade_no"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Gift)) == 1


def test_a_gateway_failure_leaves_a_gift_that_the_retry_resumes(
    app, client, template, people, mock_control
):
    mock_control.post("/_mock/faults", json={"method": "alipay.trade.create", "kind": "error"})
    body = order(template, people)

    failed = buy(client, people, body, key="buy-2")
    mock_control.delete("/_mock/faults")
    resumed = buy(client, people, body, key="buy-2")

    assert failed.status_code == 503
    assert resumed.status_code == 201 and resumed.get_json()["trade_no"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Gift)) == 1


def test_no_transaction_is_open_while_the_gifts_trade_is_created(
    client, template, people, mock_control, monkeypatch
):
    open_during_the_call: list[bool] = []
    create_trade = payments.create_trade

    def watched(*args, **kwargs):
        open_during_the_call.append(db.session().in_transaction())
        return create_trade(*args, **kwargs)

    monkeypatch.setattr(payments, "create_trade", watched)
    mock_control.post("/_mock/faults", json={"method": "alipay.trade.create", "kind": "error"})
    body = order(template, people)
    assert buy(client, people, body, key="buy-3").status_code == 503  # a new gift
    mock_control.delete("/_mock/faults")
    assert buy(client, people, body, key="buy-3").status_code == 201  # the retry resumes it

    assert open_during_the_call == [False, False]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": 11}, "quantity"),  # the template allows 10 per order
        ({"quantity": 0}, "quantity"),
        ({"cover": "halloween"}, "cover"),
        ({"template_id": "vtp_missing"}, "template_id"),
        ({"send_at": "2020-01-01T00:00:00+08:00"}, "send_at"),
        ({"send_at": "2030-01-01T00:00:00+08:00"}, "send_at"),  # more than 365 days ahead
        ({"send_at": "2026-12-01T00:00:00"}, "send_at"),  # no offset
        ({"message": "x" * 201}, "message"),
        ({"message": "hi\x07"}, "message"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"recipient": {}}, "recipient"),
        ({"recipient": {"user_id": "usr_x", "link": True}}, "recipient"),
        ({"recipient": {"phone": "12345"}}, "recipient"),
        ({"recipient": {"user_id": "usr_nobody"}}, "recipient"),
    ],
)
def test_bad_orders_are_refused_with_the_field_named(app, client, template, people, changes, field):
    response = buy(client, people, order(template, people, **changes))

    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Gift)) == 0


def test_a_gift_to_oneself_is_refused(client, template, people, login):
    me = login(0)["user"]["id"]
    response = buy(client, people, order(template, people, recipient={"user_id": me}))
    assert response.status_code == 422


def test_buying_needs_an_idempotency_key(client, template, people):
    response = client.post("/v1/gifts", json=order(template, people), headers=people["sender"])
    assert response.status_code == 400
    assert response.get_json()["code"] == "idempotency_key_required"


def test_a_phone_recipient_is_kept_masked_and_hashed_only(app, client, template, people):
    gift = buy(client, people, order(template, people, recipient={"phone": "13812345678"}))

    assert gift.get_json()["recipient"] == {"kind": "phone", "phone_masked": "138****5678"}
    with app.app_context():
        row = db.session.get(Gift, gift.get_json()["id"])
        assert "13812345678" not in repr(vars(row))
        assert len(row.recipient_phone_hash) == 64


def test_an_unpaid_gift_is_closed_when_its_payment_window_ends(
    app, client, template, people, mock_idp
):
    gift = buy(client, people, order(template, people)).get_json()

    run_outbox_now(app)

    closed = client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()
    assert closed["status"] == "closed"
    assert [e["type"] for e in closed["events"]] == ["created", "closed"]
    assert _mock_trade(mock_idp, gift["trade_no"])["trade_status"] == "TRADE_CLOSED"


def test_a_paid_gift_whose_notification_was_lost_is_found_when_the_window_ends(
    app, client, template, people, mock_idp
):
    # The test app's public URL is not served, so the mock's notification cannot arrive.
    gift = buy(client, people, order(template, people)).get_json()
    httpx.post(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}/pay").raise_for_status()

    run_outbox_now(app)

    paid = client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()
    assert paid["status"] == "scheduled"
    assert paid["events"][-1]["type"] == "paid"
    assert paid["events"][-1]["detail"] == {"via": "reconciliation"}


def test_only_the_sender_and_then_the_recipient_see_a_gift(app, client, template, people, mock_idp):
    gift = buy(client, people, order(template, people)).get_json()
    path = f"/v1/gifts/{gift['id']}"

    assert client.get(path, headers=people["stranger"]).status_code == 404
    assert client.get(path, headers=people["friend"]).status_code == 404  # not paid yet
    assert client.get("/v1/gifts?role=received", headers=people["friend"]).get_json()["data"] == []
    httpx.post(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}/pay").raise_for_status()
    run_outbox_now(app)

    assert client.get(path, headers=people["friend"]).status_code == 200
    received = client.get("/v1/gifts?role=received", headers=people["friend"]).get_json()["data"]
    assert [g["id"] for g in received] == [gift["id"]]
    sent = client.get("/v1/gifts", headers=people["sender"]).get_json()["data"]
    assert [g["id"] for g in sent] == [gift["id"]]


@pytest.fixture
def served_minifin(app_env, app):
    """Minifin on a real port, with its public URL pointing there, so notifications arrive."""
    with live_server.served_minifin(app_env) as live:
        yield live


def test_payment_at_the_cashier_schedules_the_gift_through_the_notification(
    served_minifin, template, mock_idp, demo_users
):
    with httpx.Client(base_url=served_minifin.url, timeout=10) as api:

        def log_in(index):
            code = auth_code(mock_idp.url, demo_users[index]["user_id"])
            return api.post("/v1/sessions", json={"auth_code": code}).json()

        sender, friend = log_in(0), log_in(1)
        people = {"sender": bearer(sender["access_token"]), "friend_id": friend["user"]["id"]}
        gift = api.post(
            "/v1/gifts", json=order(template, people),
            headers={**people["sender"], "Idempotency-Key": "e2e"},
        ).json()  # fmt: skip
        httpx.post(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}/pay").raise_for_status()

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            now = api.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).json()
            if now["status"] != "pending_payment":
                break
            time.sleep(0.1)

    assert now["status"] == "scheduled"
    assert now["events"][-1]["detail"] == {"via": "notification"}
    assert now["paid_at"]
