"""Every payment that lands where it cannot be used is given back: a trade is opened only for a
gift waiting for payment, it carries the payment window, and a payment for a gift that can no
longer use it is refunded once, on its own request number, with the sender told."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from service.components import gateway
from service.extensions import db
from service.gateway import payments
from service.gateway.client import BEIJING
from service.gifting.models import Gift
from service.scheduler import outbox
from service.scheduler.models import OutboxJob
from tests.gifting_helpers import buy, order, run_outbox_now

TRADE_CREATE, TRADE_QUERY = "alipay.trade.create", "alipay.trade.query"


@pytest.fixture(autouse=True)
def _no_faults_left(mock):
    yield
    mock.control.delete("/_mock/faults")


def _gift(client, people, gift_id: str) -> dict:
    return client.get(f"/v1/gifts/{gift_id}", headers=people["sender"]).get_json()


def _trade_at_the_platform(app, gift_id: str) -> payments.TradeState | None:
    with app.app_context():
        return payments.query_trade(gateway(), out_trade_no=gift_id)


def _deliver(client, form: dict[str, str]) -> None:
    response = client.post("/v1/notifications/alipay", data=form)
    assert response.get_data(as_text=True) == "success"


def _success_notification(mock, trade_no: str) -> dict[str, str]:
    found = mock.wait_for_notifications(
        lambda ns: any(n["fields"]["trade_status"] == "TRADE_SUCCESS" for n in ns),
        trade_no=trade_no,
    )
    return next(n["fields"] for n in found if n["fields"]["trade_status"] == "TRADE_SUCCESS")


def test_a_retry_for_a_gift_closed_unpaid_is_gift_closed_and_opens_no_trade(
    app, client, template, people, mock
):
    body = order(template, people)
    mock.add_fault(method=TRADE_CREATE, kind="error")  # unavailable, however often retried
    assert buy(client, people, body, key="closed-retry").status_code == 503
    mock.control.delete("/_mock/faults")
    run_outbox_now(app)  # the payment window ends: no trade at the platform, the gift is closed
    (gift_id,) = _gift_ids(app)
    assert _gift(client, people, gift_id)["status"] == "closed"

    retry = buy(client, people, body, key="closed-retry")

    assert retry.status_code == 409
    assert retry.mimetype == "application/problem+json"
    assert retry.get_json()["code"] == "gift_closed"
    assert _trade_at_the_platform(app, gift_id) is None


def test_a_trade_opened_while_its_gift_is_being_closed_is_closed_again_at_once(
    app, client, template, people, mock
):
    """trade.create is held at the mock (a latency fault, under the 3 s gateway timeout of the
    test profile) while the settle job closes the gift."""
    mock.add_fault(method=TRADE_CREATE, kind="latency", seconds=2.5, times=1)
    answers: list = []
    buying = threading.Thread(
        target=lambda: answers.append(buy(client, people, order(template, people)))
    )
    buying.start()
    gift_id = _wait_for_the_gift(app)
    run_outbox_now(app)  # the query finds no trade yet: the gift is closed
    assert _gift(client, people, gift_id)["status"] == "closed"
    buying.join(timeout=20)

    (answer,) = answers
    assert answer.status_code == 409 and answer.get_json()["code"] == "gift_closed"
    assert _trade_at_the_platform(app, gift_id).status == payments.TRADE_CLOSED


def test_the_trade_carries_the_payment_window_so_the_platform_closes_it_too(
    app, client, template, people, mock
):
    gift = buy(client, people, order(template, people)).get_json()

    trade = mock.trade(gift["trade_no"])
    with app.app_context():
        created_at = db.session.get(Gift, gift["id"]).created_at
    window_end = (created_at + timedelta(minutes=15)).astimezone(BEIJING).replace(microsecond=0)
    assert datetime.fromisoformat(trade["expires_at"]) == window_end


def test_a_payment_that_arrives_after_its_gift_was_closed_is_refunded_once_and_the_sender_told(
    app, client, template, people, mock, demo_users
):
    gift = buy(client, people, order(template, people)).get_json()
    mock.pay(gift["trade_no"]).raise_for_status()
    # The settle job's query is answered "no such trade" (the platform's view lagging), so the
    # gift is closed while the buyer's payment and its notification are on their way.
    mock.add_fault(method=TRADE_QUERY, kind="error", code="40004", sub_code="ACQ.TRADE_NOT_EXIST",
                   times=1)  # fmt: skip
    run_outbox_now(app)
    assert _gift(client, people, gift["id"])["status"] == "closed"
    form = _success_notification(mock, gift["trade_no"])

    _deliver(client, form)
    _deliver(client, form)  # delivered twice
    again = mock.control.post(f"/_mock/trades/{gift['trade_no']}/notify", json={}).json()
    _deliver(client, again["fields"])  # and told again under a new notify_id
    run_outbox_now(app)  # the refund
    run_outbox_now(app)  # the sender's notice, queued with it

    trade = mock.trade(gift["trade_no"])
    assert [r["out_request_no"] for r in trade["refunds"]] == [f"late-{gift['trade_no']}"]
    assert trade["refunded_fen"] == gift["amount_fen"] == 5800
    events = [e["type"] for e in _gift(client, people, gift["id"])["events"]]
    assert events == ["created", "closed", "paid_late", "paid_late_refunded"]
    inbox = mock.control.get(f"/_mock/inbox/{demo_users[0]['user_id']}").json()["messages"]
    told = [m for m in inbox if m["user_template_id"] == "TPL_GIFT_REFUNDED"
            and gift["id"] in m["page"]]  # fmt: skip
    assert len(told) == 1


def test_a_paid_late_refund_retried_after_a_crash_refunds_nothing_more(
    app, client, template, people, mock
):
    gift = buy(client, people, order(template, people)).get_json()
    mock.pay(gift["trade_no"]).raise_for_status()
    mock.add_fault(method=TRADE_QUERY, kind="error", code="40004", sub_code="ACQ.TRADE_NOT_EXIST",
                   times=1)  # fmt: skip
    run_outbox_now(app)
    _deliver(client, _success_notification(mock, gift["trade_no"]))
    run_outbox_now(app)
    with app.app_context():  # the worker died after the refund, before recording the job done
        db.session.execute(
            db.update(OutboxJob)
            .where(OutboxJob.kind == "gifting.refund_paid_late")
            .values(status="pending", finished_at=None)
        )
        db.session.commit()

    run_outbox_now(app)

    trade = mock.trade(gift["trade_no"])
    assert len(trade["refunds"]) == 1 and trade["refunded_fen"] == 5800
    with app.app_context():
        assert outbox.list_jobs("dead", 10) == []


def _gift_ids(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(Gift.id)))


def _wait_for_the_gift(app, timeout: float = 5) -> str:
    """The gift's id once its row is committed (just before trade.create is sent)."""
    deadline = datetime.now() + timedelta(seconds=timeout)
    while datetime.now() < deadline:
        ids = _gift_ids(app)
        if ids:
            return ids[0]
        threading.Event().wait(0.02)
    raise AssertionError("the gift was never recorded")
