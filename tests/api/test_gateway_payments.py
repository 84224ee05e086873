"""The gateway client's payment calls against the live mock: amounts, idempotency, retries."""

from __future__ import annotations

import secrets

import httpx
import pytest

from service.components import gateway
from service.gateway import payments
from service.gateway.errors import GatewayRejected


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


def test_a_template_message_lands_in_the_inbox_once(gw, buyer, mock_idp):
    key = secrets.token_hex(6)
    for _ in range(2):
        payments.send_template_message(
            gw, to_user_id=buyer, template_id="TPL_GIFT", page="pages/claim?t=abc",
            data={"keyword1": "A coffee from 阿伟"}, form_id="2026112522001",
            out_biz_no=f"msg_{key}",
        )  # fmt: skip

    inbox = httpx.get(f"{mock_idp.url}/_mock/inbox/{buyer}").json()["messages"]
    mine = [m for m in inbox if m["out_biz_no"] == f"msg_{key}"]
    assert len(mine) == 1
    assert mine[0]["page"] == "pages/claim?t=abc"


def test_a_transient_gateway_error_on_a_keyed_call_is_retried(gw, buyer, mock_control):
    mock_control.post(
        "/_mock/faults", json={"method": "alipay.trade.create", "kind": "error", "times": 1}
    )

    out_trade_no, trade_no = _new_trade(gw, buyer)

    assert payments.query_trade(gw, out_trade_no=out_trade_no).trade_no == trade_no
