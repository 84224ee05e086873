"""`alipay.trade.fastpay.refund.query`: did the refund with this `out_request_no` happen?

As on the platform, `10000` only means the query worked: the refund happened when the answer
carries its `refund_amount` (and `refund_status` `REFUND_SUCCESS`); an answer without them means
no such refund was made, and the merchant may send the refund again with the same number. A
refund sent without `out_request_no` is keyed by the trade's `out_trade_no`. An unknown trade is
`ACQ.TRADE_NOT_EXIST`.
"""

from __future__ import annotations

from typing import Any

from service.gateway.money import fen_to_yuan
from service.mock_idp.parameters import text_parameter
from service.mock_idp.protocol import GatewayCall, GatewayMethod, beijing_time
from service.mock_idp.refunds import list_refunds
from service.mock_idp.trade_records import find_trade, invalid_trade_parameter

REFUND_QUERY_METHOD = "alipay.trade.fastpay.refund.query"
REFUND_SUCCESS = "REFUND_SUCCESS"


def _text(call: GatewayCall, name: str, required: bool = False) -> str | None:
    return text_parameter(
        call.biz, name, max_length=64, required=required, refuse=invalid_trade_parameter
    )


def refund_query(call: GatewayCall) -> dict[str, Any]:
    """The refund keyed `out_request_no` of the trade, or only the trade's ids when none."""
    trade = find_trade(
        call.store,
        call.app.app_id,
        trade_no=_text(call, "trade_no"),
        out_trade_no=_text(call, "out_trade_no"),
    )
    out_request_no = _text(call, "out_request_no", required=True)
    fields: dict[str, Any] = {
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "out_request_no": out_request_no,
    }
    for refund in list_refunds(call.store, trade.trade_no):
        if refund.out_request_no == out_request_no:
            fields.update(
                total_amount=fen_to_yuan(trade.total_fen),
                refund_amount=fen_to_yuan(refund.refund_fen),
                refund_status=REFUND_SUCCESS,
                gmt_refund_pay=beijing_time(refund.created_at),
            )
    return fields


METHODS = (GatewayMethod(REFUND_QUERY_METHOD, refund_query),)
