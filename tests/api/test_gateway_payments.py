"""The gateway client's payment calls against the live mock: amounts, idempotency, retries."""

from __future__ import annotations

import secrets

import httpx
import pytest

from service.components import gateway
from service.gateway import payments, template_message
from service.gateway.errors import GatewayRejected, GatewayUnavailable

MESSAGE = "alipay.open.app.mini.templatemessage.send"


@pytest.fixture
def gw(app):
    with app.app_context():
        yield gateway()


@pytest.fixture
def buyer(demo_users):
    return demo_users[1]["user_id"]


def _pay(mock_idp, trade_no: str) -> None:
    httpx.post(f"{mock_idp.url}/_mock/trades/{trade_no}/pay").raise_for_status()


def _new_trade(gw, buyer, amount_fen=990) -> tuple[str, str]:
    out_trade_no = f"gft_{secrets.token_hex(6)}"
    trade_no = payments.create_trade(
        gw, out_trade_no=out_trade_no, amount_fen=amount_fen, subject="A coffee", buyer_id=buyer
    )
    return out_trade_no, trade_no


def test_a_trade_is_created_in_fen_and_read_back(gw, buyer):
    out_trade_no, trade_no = _new_trade(gw, buyer, amount_fen=1234)

    state = payments.query_trade(gw, out_trade_no=out_trade_no)

    assert len(trade_no) == 28
    assert state == payments.TradeState(trade_no, out_trade_no, payments.WAIT_BUYER_PAY, 1234)
    assert not state.paid


def test_creating_the_same_trade_again_returns_the_same_trade_no(gw, buyer):
    out_trade_no, trade_no = _new_trade(gw, buyer)

    again = payments.create_trade(
        gw, out_trade_no=out_trade_no, amount_fen=990, subject="A coffee", buyer_id=buyer
    )

    assert again == trade_no


def test_an_unknown_trade_queries_as_none(gw):
    assert payments.query_trade(gw, out_trade_no="gft_never_created") is None


def test_a_paid_trade_refunds_once_per_request_number(gw, buyer, mock_idp):
    out_trade_no, trade_no = _new_trade(gw, buyer, amount_fen=2000)
    _pay(mock_idp, trade_no)
    assert payments.query_trade(gw, out_trade_no=out_trade_no).paid

    first = payments.refund_trade(
        gw, out_trade_no=out_trade_no, amount_fen=500, out_request_no="r1", reason="unclaimed"
    )
    repeat = payments.refund_trade(
        gw, out_trade_no=out_trade_no, amount_fen=500, out_request_no="r1", reason="unclaimed"
    )
    second = payments.refund_trade(
        gw, out_trade_no=out_trade_no, amount_fen=1500, out_request_no="r2", reason="unclaimed"
    )

    assert first == payments.RefundResult(refunded_fen=500, money_moved=True)
    assert repeat == payments.RefundResult(refunded_fen=500, money_moved=False)
    assert second == payments.RefundResult(refunded_fen=2000, money_moved=True)
    assert payments.query_trade(gw, out_trade_no=out_trade_no).status == payments.TRADE_CLOSED


def test_refunding_more_than_was_paid_is_refused(gw, buyer, mock_idp):
    out_trade_no, trade_no = _new_trade(gw, buyer, amount_fen=500)
    _pay(mock_idp, trade_no)

    with pytest.raises(GatewayRejected) as refused:
        payments.refund_trade(
            gw, out_trade_no=out_trade_no, amount_fen=501, out_request_no="r", reason="x"
        )
    assert refused.value.sub_code == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"


def test_an_unpaid_trade_closes(gw, buyer):
    out_trade_no, _ = _new_trade(gw, buyer)

    payments.close_trade(gw, out_trade_no=out_trade_no)

    assert payments.query_trade(gw, out_trade_no=out_trade_no).status == payments.TRADE_CLOSED


def _send_message(gw, buyer: str, page: str) -> None:
    template_message.send_template_message(
        gw, to_user_id=buyer, template_id="TPL_GIFT", page=page,
        data={"keyword1": "A coffee from 阿伟"}, form_id="2026112522001",
    )  # fmt: skip


def test_a_template_message_is_one_delivery_per_call_and_a_repeat_lands_again(gw, buyer, mock_idp):
    page = f"pages/claim?t={secrets.token_hex(6)}"
    for _ in range(2):
        _send_message(gw, buyer, page)

    inbox = httpx.get(f"{mock_idp.url}/_mock/inbox/{buyer}").json()["messages"]
    mine = [m for m in inbox if m["page"] == page]
    assert len(mine) == 2  # the platform keeps no key for messages: at-least-once is the caller's
    assert [m["ignored_parameters"] for m in mine] == [[], []]  # nothing it would ignore


def test_a_template_message_refused_with_20000_is_not_retried_within_the_call(
    gw, buyer, mock_idp, mock_control
):
    mock_control.post("/_mock/faults", json={"method": MESSAGE, "kind": "error", "times": 1})
    page = f"pages/claim?t={secrets.token_hex(6)}"

    with pytest.raises(GatewayUnavailable) as refused:
        _send_message(gw, buyer, page)

    assert refused.value.maybe_done is False  # a clear refusal: nothing was delivered
    _send_message(gw, buyer, page)  # the fault is spent: one call, one delivery
    inbox = httpx.get(f"{mock_idp.url}/_mock/inbox/{buyer}").json()["messages"]
    assert len([m for m in inbox if m["page"] == page]) == 1


def test_a_transient_gateway_error_on_a_keyed_call_is_retried(gw, buyer, mock_control):
    mock_control.post(
        "/_mock/faults", json={"method": "alipay.trade.create", "kind": "error", "times": 1}
    )

    out_trade_no, trade_no = _new_trade(gw, buyer)

    assert payments.query_trade(gw, out_trade_no=out_trade_no).trade_no == trade_no
