"""The gift's own money calls (trade.create, trade.close, trade.refund) read every answer through
the answer table: an answer of unknown outcome is never taken for a refusal or for success.

Each test makes the live mock give one of the platform's real answers, before or after acting.
"""

from __future__ import annotations

import httpx

from service.extensions import db
from service.gifting.models import Gift
from service.scheduler.models import OutboxJob
from tests.gifting_helpers import buy, order, run_outbox_now


def _fault(mock_control, method: str, sub_code: str, *, after: bool, times: int = 1) -> None:
    mock_control.post(
        "/_mock/faults",
        json={"method": method, "kind": "error", "code": "40004", "sub_code": sub_code,
              "after": after, "times": times},
    ).raise_for_status()  # fmt: skip


def _status(app, gift_id: str) -> str:
    with app.app_context():
        return db.session.get(Gift, gift_id).status


def _canceled_paid_gift(app, client, template, people, mock_idp) -> dict:
    gift = buy(client, people, order(template, people)).get_json()
    httpx.post(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}/pay").raise_for_status()
    run_outbox_now(app)  # reconciled: scheduled
    canceled = client.post(f"/v1/gifts/{gift['id']}/cancel", headers=people["sender"])
    assert canceled.status_code == 200
    return gift


def test_a_refund_answered_system_error_after_it_was_made_is_settled_by_query_once(
    app, client, template, people, mock_idp, mock_control
):
    gift = _canceled_paid_gift(app, client, template, people, mock_idp)
    _fault(mock_control, "alipay.trade.refund", "ACQ.SYSTEM_ERROR", after=True)

    run_outbox_now(app)

    assert _status(app, gift["id"]) == "refunded"
    trade = httpx.get(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}").json()
    assert [r["out_request_no"] for r in trade["refunds"]] == [gift["id"]]
    assert trade["refunded_fen"] == gift["amount_fen"]


def test_a_refund_answered_system_error_before_it_was_made_waits_and_is_made_once_later(
    app, client, template, people, mock_idp, mock_control
):
    gift = _canceled_paid_gift(app, client, template, people, mock_idp)
    _fault(mock_control, "alipay.trade.refund", "ACQ.SYSTEM_ERROR", after=False)

    run_outbox_now(app)

    assert _status(app, gift["id"]) == "canceled"  # not refunded, not failed: asked again later
    with app.app_context():
        job = db.session.scalars(
            db.select(OutboxJob).where(OutboxJob.kind == "gifting.refund")
        ).one()
        assert job.status == "pending"
        assert job.last_error.startswith("GatewayOutcomeUnknown")
    run_outbox_now(app)
    assert _status(app, gift["id"]) == "refunded"
    trade = httpx.get(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}").json()
    assert len(trade["refunds"]) == 1 and trade["refunded_fen"] == gift["amount_fen"]


def test_closing_a_trade_the_platform_closed_already_closes_the_gift(
    app, client, template, people, mock_control
):
    gift = buy(client, people, order(template, people)).get_json()
    _fault(mock_control, "alipay.trade.close", "ACQ.TRADE_HAS_CLOSE", after=False)

    run_outbox_now(app)  # the settle job at the end of the payment window

    assert _status(app, gift["id"]) == "closed"


def test_a_close_refused_as_not_waiting_leaves_the_gift_unpaid_until_the_query_finds_it_paid(
    app, client, template, people, mock_idp, mock_control
):
    gift = buy(client, people, order(template, people)).get_json()
    _fault(mock_control, "alipay.trade.close", "ACQ.TRADE_STATUS_ERROR", after=False)

    run_outbox_now(app)
    assert _status(app, gift["id"]) == "pending_payment"  # not closed on an unknown answer

    httpx.post(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}/pay").raise_for_status()
    run_outbox_now(app)  # the settle job again: the query finds the payment
    assert _status(app, gift["id"]) == "scheduled"


def test_a_purchase_answered_system_error_is_a_503_and_its_retry_finds_the_same_trade(
    client, template, people, mock_idp, mock_control
):
    _fault(mock_control, "alipay.trade.create", "ACQ.SYSTEM_ERROR", after=True)
    body = order(template, people)

    first = buy(client, people, body, key="retry-after-system-error")
    assert first.status_code == 503, first.get_json()
    assert first.get_json()["code"] == "gateway_outcome_unknown"
    assert "Retry-After" in first.headers

    again = buy(client, people, body, key="retry-after-system-error")
    assert again.status_code == 201, again.get_json()
    trade = httpx.get(f"{mock_idp.url}/_mock/trades/{again.get_json()['trade_no']}").json()
    assert trade["out_trade_no"] == again.get_json()["id"]


def test_a_purchase_answered_trade_has_success_records_the_platforms_trade(
    app, client, template, people, mock_idp, mock_control
):
    _fault(mock_control, "alipay.trade.create", "ACQ.TRADE_HAS_SUCCESS", after=True)

    bought = buy(client, people, order(template, people))

    assert bought.status_code == 201, bought.get_json()
    trade = httpx.get(f"{mock_idp.url}/_mock/trades/{bought.get_json()['trade_no']}").json()
    assert trade["out_trade_no"] == bought.get_json()["id"]
