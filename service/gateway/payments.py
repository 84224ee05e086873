"""Payments through the gateway: trades, refunds and template messages, in fen and plain values.

Every money call here is keyed by a number the gateway deduplicates on (`out_trade_no`,
`out_request_no`), so each is safe to retry: a worker that crashed after calling calls again with
the same key and gets the same result, never a second charge or refund. Template messages are the
exception: the platform takes no idempotency key for them (reference §6), so they are sent once
per call and their retry rule lives with the job that sends them (gifting/jobs.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from service.gateway.client import GatewayClient
from service.gateway.errors import GatewayRejected
from service.gateway.money import fen_to_yuan, yuan_to_fen
from service.gateway.signing import compact_json

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
) -> str:
    """Open a JSAPI trade for the buyer to pay with `my.tradePay`; returns its `trade_no`."""
    biz = {
        "out_trade_no": out_trade_no,
        "total_amount": fen_to_yuan(amount_fen),
        "subject": subject,
        "product_code": "JSAPI_PAY",
        **({"buyer_id": buyer_id} if buyer_id else {"buyer_open_id": buyer_open_id}),
    }
    answer = gateway.call("alipay.trade.create", biz, notify_url=notify_url, safe_to_retry=True)
    return str(answer["trade_no"])


def query_trade(gateway: GatewayClient, *, out_trade_no: str) -> TradeState | None:
    """The trade's state, or None when the gateway has no such trade."""
    try:
        answer = gateway.call(
            "alipay.trade.query", {"out_trade_no": out_trade_no}, safe_to_retry=True
        )
    except GatewayRejected as exc:
        if exc.sub_code == TRADE_NOT_EXIST:
            return None
        raise
    return TradeState(
        trade_no=str(answer["trade_no"]),
        out_trade_no=str(answer["out_trade_no"]),
        status=str(answer["trade_status"]),
        total_fen=yuan_to_fen(str(answer["total_amount"])),
    )


def close_trade(gateway: GatewayClient, *, out_trade_no: str) -> None:
    """Close an unpaid trade so it can no longer be paid."""
    gateway.call("alipay.trade.close", {"out_trade_no": out_trade_no}, safe_to_retry=True)


def refund_trade(
    gateway: GatewayClient,
    *,
    out_trade_no: str,
    amount_fen: int,
    out_request_no: str,
    reason: str,
) -> RefundResult:
    """Refund (part of) a paid trade; the same `out_request_no` never refunds twice."""
    answer = gateway.call(
        "alipay.trade.refund",
        {
            "out_trade_no": out_trade_no,
            "refund_amount": fen_to_yuan(amount_fen),
            "out_request_no": out_request_no,
            "refund_reason": reason,
        },
        safe_to_retry=True,
    )
    return RefundResult(
        refunded_fen=yuan_to_fen(str(answer["refund_fee"])),
        money_moved=answer.get("fund_change") == "Y",
    )


def send_template_message(
    gateway: GatewayClient,
    *,
    to_user_id: str,
    template_id: str,
    page: str,
    data: Mapping[str, str],
    form_id: str,
) -> None:
    """Notify a user in the super-app, with exactly one request.

    The platform has no idempotency key for messages: a repeat is a second message, so this is
    never retried here (not even after `20000`); the caller decides, knowing from
    `GatewayUnavailable.maybe_done` whether the message may have arrived. `form_id` is what the
    platform accepts as the user's permission to be messaged: a form submission id, or the
    `trade_no` of a payment.
    """
    gateway.call(
        "alipay.open.app.mini.templatemessage.send",
        {
            "to_user_id": to_user_id,
            "user_template_id": template_id,
            "page": page,
            "data": compact_json({key: {"value": value} for key, value in data.items()}),
            "form_id": form_id,
        },
        safe_to_retry=False,
    )
