"""Payments (`alipay.trade.*`) through the gateway: trades and refunds, in fen and plain values.

Every money call here is keyed by a number the gateway deduplicates on (`out_trade_no`,
`out_request_no`), so each is safe to retry: a worker that crashed after calling calls again with
the same key and gets the same result, never a second charge or refund. Each answer is read
through the one answer table (`outcomes`): a done call returns, a refused one raises
`GatewayRejected`, and an unknown one (`ACQ.SYSTEM_ERROR`, a timeout, …) is either settled here
by a query (a refund) or raised as a 503 for the caller to retry with the same key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.gateway.client import GatewayClient, gateway_timestamp
from service.gateway.errors import GatewayOutcomeUnknown
from service.gateway.money import fen_to_yuan, yuan_to_fen
from service.gateway.outcomes import (
    REFUND_QUERY,
    TRADE_CLOSE,
    TRADE_CREATE,
    TRADE_QUERY,
    TRADE_REFUND,
)

WAIT_BUYER_PAY, TRADE_SUCCESS = "WAIT_BUYER_PAY", "TRADE_SUCCESS"
TRADE_FINISHED, TRADE_CLOSED = "TRADE_FINISHED", "TRADE_CLOSED"
TRADE_NOT_EXIST = "ACQ.TRADE_NOT_EXIST"


@dataclass(frozen=True)
class TradeState:
    """What the gateway says about a trade."""

    trade_no: str
    out_trade_no: str
    status: str
    total_fen: int

    @property
    def paid(self) -> bool:
        return self.status in (TRADE_SUCCESS, TRADE_FINISHED)


@dataclass(frozen=True)
class RefundResult:
    """A refund's outcome: the cumulative refunded amount and whether money moved this time."""

    refunded_fen: int
    money_moved: bool


def create_trade(
    gateway: GatewayClient,
    *,
    out_trade_no: str,
    amount_fen: int,
    subject: str,
    buyer_id: str | None = None,
    buyer_open_id: str | None = None,
    notify_url: str | None = None,
    expires_at: datetime | None = None,
) -> str:
    """Open a JSAPI trade for the buyer to pay with `my.tradePay`; returns its `trade_no`.

    `expires_at` is the end of Minifin's payment window, sent as `time_expire` (an absolute
    Beijing time, so a retry sends the same value): the platform closes the trade then, and no
    payment can land after Minifin has given up on it.
    """
    biz = {
        "out_trade_no": out_trade_no,
        "total_amount": fen_to_yuan(amount_fen),
        "subject": subject,
        "product_code": "JSAPI_PAY",
        **({"buyer_id": buyer_id} if buyer_id else {"buyer_open_id": buyer_open_id}),
        **({"time_expire": gateway_timestamp(expires_at)} if expires_at else {}),
    }
    outcome = gateway.money_call(TRADE_CREATE, biz, notify_url=notify_url)
    if outcome.already_done:  # `ACQ.TRADE_HAS_SUCCESS`: the trade exists and is paid
        trade = query_trade(gateway, out_trade_no=out_trade_no)
        if trade is None:
            raise GatewayOutcomeUnknown(TRADE_CREATE, outcome.code, outcome.sub_code)
        return trade.trade_no
    return str(outcome.raise_unless_done()["trade_no"])


def query_trade(gateway: GatewayClient, *, out_trade_no: str) -> TradeState | None:
    """The trade's state, or None when the gateway has no such trade; unknown answers raise."""
    outcome = gateway.money_call(TRADE_QUERY, {"out_trade_no": out_trade_no})
    if outcome.refused and outcome.sub_code == TRADE_NOT_EXIST:
        return None
    answer = outcome.raise_unless_done()
    return TradeState(
        trade_no=str(answer["trade_no"]),
        out_trade_no=str(answer["out_trade_no"]),
        status=str(answer["trade_status"]),
        total_fen=yuan_to_fen(str(answer["total_amount"])),
    )


def close_trade(gateway: GatewayClient, *, out_trade_no: str) -> None:
    """Close an unpaid trade so it can no longer be paid; returns once nobody can pay it.

    A trade already closed (`ACQ.TRADE_HAS_CLOSE`) or never made (`ACQ.TRADE_NOT_EXIST`) cannot
    be paid either. A trade that is no longer waiting (`ACQ.TRADE_STATUS_ERROR`: it may have been
    paid meanwhile) and any other unknown answer raise, so the caller asks `trade.query` again
    before it records the gift closed.
    """
    outcome = gateway.money_call(TRADE_CLOSE, {"out_trade_no": out_trade_no})
    if outcome.refused and outcome.sub_code == TRADE_NOT_EXIST:
        return
    outcome.raise_unless_done()


def refund_trade(
    gateway: GatewayClient,
    *,
    amount_fen: int,
    out_request_no: str,
    reason: str,
    out_trade_no: str | None = None,
    trade_no: str | None = None,
) -> RefundResult:
    """Refund (part of) a paid trade, named by either number; the same `out_request_no` never
    refunds twice.

    An unknown answer is settled at once by `alipay.trade.fastpay.refund.query`: a refund the
    platform made is a result (it moved no money this time as far as Minifin can tell); one it
    did not make raises `GatewayOutcomeUnknown`, and the caller's retry with the same
    `out_request_no` is safe. A refusal raises `GatewayRejected` with its sub-code.
    """
    trade = {"trade_no": trade_no} if trade_no else {"out_trade_no": out_trade_no}
    outcome = gateway.money_call(
        TRADE_REFUND,
        {
            **trade,
            "refund_amount": fen_to_yuan(amount_fen),
            "out_request_no": out_request_no,
            "refund_reason": reason,
        },
    )
    if outcome.unknown:
        made = query_refund(gateway, out_request_no=out_request_no, **trade)
        if made is None:
            raise GatewayOutcomeUnknown(TRADE_REFUND, outcome.code, outcome.sub_code)
        return RefundResult(refunded_fen=made.refund_fen, money_moved=False)
    answer = outcome.raise_unless_done()
    return RefundResult(
        refunded_fen=yuan_to_fen(str(answer["refund_fee"])),
        money_moved=answer.get("fund_change") == "Y",
    )


@dataclass(frozen=True)
class RefundRecord:
    """A refund the platform made, as `alipay.trade.fastpay.refund.query` reports it."""

    out_request_no: str
    refund_fen: int


def query_refund(
    gateway: GatewayClient,
    *,
    out_request_no: str,
    out_trade_no: str | None = None,
    trade_no: str | None = None,
) -> RefundRecord | None:
    """The refund keyed `out_request_no`, or None when the platform made no such refund.

    What reconciles a refund whose answer was unknown: found, it happened (once); None, it did
    not, and sending it again with the same `out_request_no` is safe. `10000` alone is no proof:
    only an answer carrying `refund_amount` (and, when present, `refund_status`
    `REFUND_SUCCESS`) is. An unknown outcome raises (`GatewayUnavailable` and its kind).
    """
    trade = {"trade_no": trade_no} if trade_no else {"out_trade_no": out_trade_no}
    outcome = gateway.money_call(REFUND_QUERY, {**trade, "out_request_no": out_request_no})
    if outcome.refused and outcome.sub_code == TRADE_NOT_EXIST:
        return None
    answer = outcome.raise_unless_done()
    if answer.get("refund_amount") in (None, "") or answer.get("refund_status") not in (
        None, "", "REFUND_SUCCESS",
    ):  # fmt: skip
        return None
    return RefundRecord(out_request_no, yuan_to_fen(str(answer["refund_amount"])))
