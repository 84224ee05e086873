"""Reconciling a refund by `alipay.trade.fastpay.refund.query`, against the live mock."""

from __future__ import annotations

import secrets

import httpx
import pytest

from service.components import gateway
from service.gateway import outcomes, payments
from service.gateway.errors import GatewayOutcomeUnknown


@pytest.fixture
def gw(app):
    with app.app_context():
        yield gateway()


@pytest.fixture
def paid_trade(gw, mock_idp, demo_users) -> str:
    out_trade_no = f"gft_{secrets.token_hex(6)}"
    trade_no = payments.create_trade(
        gw, out_trade_no=out_trade_no, amount_fen=2000, subject="Two coffees",
        buyer_id=demo_users[1]["user_id"],
    )  # fmt: skip
    httpx.post(f"{mock_idp.url}/_mock/trades/{trade_no}/pay").raise_for_status()
    return out_trade_no


def test_a_refund_whose_answer_was_lost_is_found_by_query_and_not_made_twice(
    gw, paid_trade, mock_control
):
    mock_control.post("/_mock/faults", json={"method": outcomes.TRADE_REFUND, "kind": "error",
                      "code": "40004", "sub_code": "ACQ.SYSTEM_ERROR", "after": True,
                      "times": 1}).raise_for_status()  # fmt: skip
    lost = gw.money_call(outcomes.TRADE_REFUND, {"out_trade_no": paid_trade,
                         "refund_amount": "5.00", "out_request_no": "rfd1"})  # fmt: skip

    found = payments.query_refund(gw, out_trade_no=paid_trade, out_request_no="rfd1")
    never = payments.query_refund(gw, out_trade_no=paid_trade, out_request_no="rfd2")

    assert lost.unknown
    assert found == payments.RefundRecord("rfd1", 500)
    assert never is None
    assert payments.query_trade(gw, out_trade_no=paid_trade).status == payments.TRADE_SUCCESS


def test_a_refund_query_for_an_unknown_trade_finds_nothing(gw):
    assert payments.query_refund(gw, out_trade_no="gft_never", out_request_no="rfd1") is None


def test_a_refund_query_answered_system_error_raises_rather_than_saying_none(
    gw, paid_trade, mock_control
):
    mock_control.post("/_mock/faults", json={"method": outcomes.REFUND_QUERY, "kind": "error",
                      "code": "40004", "sub_code": "ACQ.SYSTEM_ERROR", "times": 1})  # fmt: skip

    with pytest.raises(GatewayOutcomeUnknown):
        payments.query_refund(gw, out_trade_no=paid_trade, out_request_no="rfd1")
