"""Fund authorisation (`alipay.fund.auth.*`, deposit holds and their waivers) through the gateway.

Freezes (`alipay.fund.auth.order.app.freeze`, as an orderStr the cashier sends), unfreezes,
payments against a hold (`alipay.trade.pay` with an `auth_no`) and operation queries. Amounts
go in and come out as integer fen; yuan strings exist only on the wire. Every call is keyed by a
number the gateway deduplicates on (`out_request_no` for a freeze or unfreeze, `out_trade_no`
for a payment), so each is safe to repeat after a timeout:
the platform never acts twice. It does not always answer a repeat with the first result,
though (a repeated payment is `ACQ.TRADE_HAS_SUCCESS`), so the money calls read their answers
through the table in `outcomes.py`: done (then return what was done), refused
(`GatewayRejected`), or unknown (a `GatewayUnavailable`: keep the line pending, ask by query).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.gateway.client import GatewayClient
from service.gateway.errors import GatewayBadResponse, GatewayOutcomeUnknown
from service.gateway.money import fen_to_yuan, yuan_to_fen
from service.gateway.outcomes import DETAIL_QUERY, TRADE_PAY, TRADE_QUERY, UNFREEZE
from service.gateway.signing import compact_json

PRE_AUTH_ONLINE = "PRE_AUTH_ONLINE"
FREEZE = "alipay.fund.auth.order.app.freeze"
COMPLETE, NOT_COMPLETE = "COMPLETE", "NOT_COMPLETE"
# The answers that mean "there is no such order or operation (yet)": the user never confirmed.
NOT_FOUND_SUB_CODES = frozenset(
    {"ORDER_NOT_EXIST", "OPERATION_NOT_EXIST", "AUTH_ORDER_NOT_EXIST", "AUTH_OPERATION_NOT_EXIST"}
)


@dataclass(frozen=True)
class FundSplit:
    """How much of an amount credit covers and how much is (or was) really frozen."""

    credit_fen: int
    fund_fen: int


@dataclass(frozen=True)
class FundOperation:
    """One freeze, unfreeze or payment of an authorisation, as the gateway reports it."""

    auth_no: str
    out_order_no: str
    operation_id: str
    out_request_no: str
    operation_type: str
    status: str
    amount_fen: int
    split: FundSplit
    rest_fen: int | None = None
    payer_user_id: str = ""
    payer_open_id: str = ""
    total_unfreeze_fen: int | None = None
    total_pay_fen: int | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCESS"

    @property
    def split_adds_up(self) -> bool:
        """Whether `credit + fund == amount`, which every split the platform reports must."""
        return self.split.credit_fen + self.split.fund_fen == self.amount_fen


@dataclass(frozen=True)
class Payment:
    """A payment against an authorisation."""

    trade_no: str
    amount_fen: int
    paid_against_credit: bool


def _fen(fields: Mapping[str, Any], name: str) -> int:
    value = fields.get(name)
    return yuan_to_fen(str(value)) if value not in (None, "") else 0


def _optional_fen(fields: Mapping[str, Any], name: str) -> int | None:
    return _fen(fields, name) if fields.get(name) not in (None, "") else None


def split_of(fields: Mapping[str, Any], amount_fen: int) -> FundSplit:
    """The credit/fund split an answer or notification reports; all fund when it names none."""
    if fields.get("credit_amount") in (None, "") and fields.get("fund_amount") in (None, ""):
        return FundSplit(credit_fen=0, fund_fen=amount_fen)
    return FundSplit(credit_fen=_fen(fields, "credit_amount"), fund_fen=_fen(fields, "fund_amount"))


def operation_from(
    fields: Mapping[str, Any], *, defaults: Mapping[str, Any] | None = None
) -> FundOperation:
    """A fund operation from an answer or a fund_auth_* notification (`defaults` fill gaps)."""
    fields = {**(defaults or {}), **{k: v for k, v in fields.items() if v not in (None, "")}}
    try:
        amount_fen = yuan_to_fen(str(fields["amount"]))
        return FundOperation(
            auth_no=str(fields["auth_no"]),
            out_order_no=str(fields.get("out_order_no", "")),
            operation_id=str(fields.get("operation_id", "")),
            out_request_no=str(fields.get("out_request_no", "")),
            operation_type=str(fields.get("operation_type", "")),
            status=str(fields.get("status", "")),
            amount_fen=amount_fen,
            split=split_of(fields, amount_fen),
            rest_fen=_fen(fields, "rest_amount") if fields.get("rest_amount") else None,
            payer_user_id=str(fields.get("payer_user_id", "")),
            payer_open_id=str(fields.get("payer_open_id", "")),
            total_unfreeze_fen=_optional_fen(fields, "total_unfreeze_amount"),
            total_pay_fen=_optional_fen(fields, "total_pay_amount"),
        )
    except (KeyError, ValueError) as exc:
        raise GatewayBadResponse("The platform's fund operation lacked its amounts.") from exc


def freeze_order_string(
    gateway: GatewayClient,
    *,
    out_order_no: str,
    out_request_no: str,
    title: str,
    amount_fen: int,
    category: str,
    service_id: str,
    pay_timeout_minutes: int,
    notify_url: str,
) -> str:
    """The signed orderStr the mini-program passes to `my.tradePay` to freeze (or waive) it.

    Nothing is sent: the user confirms in the platform's cashier, which decides how much credit
    waives, and the outcome arrives as a `fund_auth_freeze` notification.
    """
    extra = {"category": category, **({"serviceId": service_id} if service_id else {})}
    biz = {
        "out_order_no": out_order_no,
        "out_request_no": out_request_no,
        "order_title": title,
        "amount": fen_to_yuan(amount_fen),
        "product_code": PRE_AUTH_ONLINE,
        "pay_timeout": f"{pay_timeout_minutes}m",
        "extra_param": compact_json(extra),
    }
    return gateway.order_string(FREEZE, biz, notify_url=notify_url)


def unfreeze(
    gateway: GatewayClient, *, auth_no: str, out_request_no: str, amount_fen: int, remark: str
) -> FundOperation:
    """Release part of a hold; the same `out_request_no` never releases twice."""
    biz = {
        "auth_no": auth_no,
        "out_request_no": out_request_no,
        "amount": fen_to_yuan(amount_fen),
        "remark": remark,
    }
    answer = gateway.money_call(UNFREEZE, biz).raise_unless_done()
    return operation_from(answer, defaults={**biz, "operation_type": "UNFREEZE"})


def pay_from_hold(
    gateway: GatewayClient,
    *,
    auth_no: str,
    out_trade_no: str,
    amount_fen: int,
    subject: str,
    complete: bool,
    buyer_id: str | None,
    buyer_open_id: str | None,
) -> Payment:
    """Charge part of a hold; `complete` also unfreezes whatever is left of it.

    A repeat of a charge whose first answer was lost is answered `ACQ.TRADE_HAS_SUCCESS`: that
    is a success (the money was taken then), and the trade it made is read by `trade.query`.
    Refusals raise `GatewayRejected`; an unknown outcome raises a `GatewayUnavailable`.
    """
    biz = {
        "out_trade_no": out_trade_no,
        "total_amount": fen_to_yuan(amount_fen),
        "subject": subject,
        "product_code": PRE_AUTH_ONLINE,
        "auth_no": auth_no,
        "auth_confirm_mode": COMPLETE if complete else NOT_COMPLETE,
        **({"buyer_id": buyer_id} if buyer_id else {"buyer_open_id": buyer_open_id}),
    }
    outcome = gateway.money_call(TRADE_PAY, biz)
    if outcome.done and outcome.already_done:
        return _earlier_payment(gateway, out_trade_no)
    answer = outcome.raise_unless_done()
    return Payment(
        trade_no=str(answer.get("trade_no", "")),
        amount_fen=_fen(answer, "total_amount") or amount_fen,
        paid_against_credit=answer.get("auth_trade_pay_mode") == "CREDIT_PREAUTH_PAY",
    )


def _earlier_payment(gateway: GatewayClient, out_trade_no: str) -> Payment:
    """The trade an earlier attempt of this charge made, as the platform records it."""
    outcome = gateway.money_call(TRADE_QUERY, {"out_trade_no": out_trade_no})
    answer = outcome.raise_unless_done()
    if answer.get("trade_status") not in ("TRADE_SUCCESS", "TRADE_FINISHED"):
        raise GatewayOutcomeUnknown(TRADE_QUERY, outcome.code, str(answer.get("trade_status")))
    return Payment(
        trade_no=str(answer.get("trade_no", "")),
        amount_fen=_fen(answer, "total_amount"),
        paid_against_credit=False,
    )


def operation_detail(
    gateway: GatewayClient, *, out_order_no: str, out_request_no: str
) -> FundOperation | None:
    """One operation of an authorisation, or None when the platform has no such operation."""
    outcome = gateway.money_call(
        DETAIL_QUERY, {"out_order_no": out_order_no, "out_request_no": out_request_no}
    )
    if outcome.refused and outcome.sub_code in NOT_FOUND_SUB_CODES:
        return None
    return operation_from(outcome.raise_unless_done())
