"""How Minifin reads the platform's answers to money calls: done, refused, or unknown.

A money call (a charge, refund, close, trade, release, or a query of one) has three outcomes,
and only three, because each needs different handling by the caller:

- **done**: the platform did it. That includes answers that say "already done", such as a
  repeated `alipay.trade.pay` answered `ACQ.TRADE_HAS_SUCCESS`: the first attempt's answer was
  lost, and the money was taken then.
- **refused**: nothing happened, and the same request will not make it happen. The caller may
  free what it reserved.
- **unknown**: the platform may or may not have acted (`20000`, `10003`, `ACQ.SYSTEM_ERROR`, a
  timeout, an answer that does not verify, a fund-auth `ORDER_ALREADY_FINISH` that an earlier
  `COMPLETE` may explain). The caller keeps the line pending and asks the platform by query
  before it frees anything.

`RULES` is the one table: (method, code, sub_code) → outcome, each with its source (a section
of the gateway reference, or the platform's published error-code list for the API). `"*"`
stands for any method, or any sub_code of a code. Lookups go from the most specific row to the
least; an answer no row names is refused when it is a 4000x (the gateway says "failed") and
unknown otherwise. The README's "How Minifin reads the platform's answers" section is this
table, and a test keeps the two the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.gateway.errors import GatewayOutcomeUnknown, GatewayRejected

DONE, REFUSED, UNKNOWN = "done", "refused", "unknown"
ANY = "*"
SUCCESS = "10000"

TRADE_CREATE = "alipay.trade.create"
TRADE_PAY = "alipay.trade.pay"
TRADE_QUERY = "alipay.trade.query"
TRADE_REFUND = "alipay.trade.refund"
TRADE_CLOSE = "alipay.trade.close"
REFUND_QUERY = "alipay.trade.fastpay.refund.query"
UNFREEZE = "alipay.fund.auth.order.unfreeze"
DETAIL_QUERY = "alipay.fund.auth.operation.detail.query"
MONEY_METHODS = (
    TRADE_CREATE, TRADE_PAY, TRADE_QUERY, TRADE_REFUND, TRADE_CLOSE, REFUND_QUERY, UNFREEZE,
    DETAIL_QUERY,
)  # fmt: skip

REF_3 = "reference §3 (codes)"
REF_5 = "reference §5"
PAY_DOC = "platform docs: alipay.trade.pay 错误码"
CREATE_DOC = "platform docs: alipay.trade.create 错误码"
QUERY_DOC = "platform docs: alipay.trade.query 错误码"
REFUND_DOC = "platform docs: alipay.trade.refund 错误码"
CLOSE_DOC = "platform docs: alipay.trade.close 错误码"
REFUND_QUERY_DOC = "platform docs: alipay.trade.fastpay.refund.query 错误码"
UNFREEZE_DOC = "platform docs: alipay.fund.auth.order.unfreeze 错误码"
DETAIL_DOC = "platform docs: alipay.fund.auth.operation.detail.query 错误码"


@dataclass(frozen=True)
class Rule:
    """One row: what an answer means, why (`source`), and whether it is an "already done"."""

    outcome: str
    source: str
    already_done: bool = False
    note: str = ""


def _rows() -> dict[tuple[str, str, str], Rule]:
    unknown_query = "the platform's own error: ask again (or query) with the same numbers"
    rows: dict[tuple[str, str, str], Rule] = {
        (ANY, SUCCESS, ""): Rule(DONE, REF_3),
        (ANY, "10003", ANY): Rule(UNKNOWN, PAY_DOC, note="processing: query for the result"),
        (ANY, "20000", ANY): Rule(UNKNOWN, REF_3, note="service unavailable: may have acted"),
        (ANY, "40004", "ACQ.SYSTEM_ERROR"): Rule(UNKNOWN, PAY_DOC, note=unknown_query),
        (ANY, "40004", "SYSTEM_ERROR"): Rule(UNKNOWN, UNFREEZE_DOC, note=unknown_query),
        (ANY, "40004", "ACQ.AQC_SYSTEM_ERROR"): Rule(UNKNOWN, REFUND_DOC, note=unknown_query),
        # alipay.trade.pay (here: against a hold)
        (TRADE_PAY, "40004", "ACQ.TRADE_HAS_SUCCESS"): Rule(
            DONE, PAY_DOC, already_done=True, note="a repeat of a paid out_trade_no: query it"
        ),
        (TRADE_PAY, "40004", "ORDER_ALREADY_FINISH"): Rule(
            UNKNOWN, REF_5, note="a COMPLETE may have ended the hold: query the operation"
        ),
        (TRADE_PAY, "40004", "ORDER_ALREADY_CLOSED"): Rule(
            UNKNOWN, REF_5, note="the hold was released, perhaps with this: query"
        ),
        (TRADE_PAY, "40004", "ACQ.TRADE_HAS_CLOSE"): Rule(REFUSED, PAY_DOC),
        (TRADE_PAY, "40004", "ACQ.CONTEXT_INCONSISTENT"): Rule(REFUSED, PAY_DOC),
        (TRADE_PAY, "40004", "ACQ.TOTAL_FEE_EXCEED"): Rule(REFUSED, PAY_DOC),
        (TRADE_PAY, "40004", "ACQ.BUYER_BALANCE_NOT_ENOUGH"): Rule(REFUSED, PAY_DOC),
        (TRADE_PAY, "40004", "ACQ.TRADE_BUYER_NOT_MATCH"): Rule(REFUSED, PAY_DOC),
        (TRADE_PAY, "40004", "ACQ.INVALID_PARAMETER"): Rule(REFUSED, PAY_DOC),
        (TRADE_PAY, "40004", "AUTH_ORDER_NOT_EXIST"): Rule(REFUSED, REF_5),
        # alipay.trade.create
        (TRADE_CREATE, "40004", "ACQ.TRADE_HAS_SUCCESS"): Rule(
            DONE, REF_5, already_done=True, note="the trade exists and is paid: query it"
        ),
        (TRADE_CREATE, "40004", "ACQ.CONTEXT_INCONSISTENT"): Rule(REFUSED, REF_5),
        (TRADE_CREATE, "40004", "ACQ.TRADE_HAS_CLOSE"): Rule(REFUSED, CREATE_DOC),
        (TRADE_CREATE, "40004", "ACQ.INVALID_PARAMETER"): Rule(REFUSED, CREATE_DOC),
        # alipay.trade.query
        (TRADE_QUERY, "40004", "ACQ.TRADE_NOT_EXIST"): Rule(
            REFUSED, REF_5, note="no such trade (yet): nobody paid it"
        ),
        # alipay.trade.refund
        (TRADE_REFUND, "40004", "ACQ.TRADE_STATUS_ERROR"): Rule(REFUSED, REF_5),
        (TRADE_REFUND, "40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"): Rule(REFUSED, REF_5),
        (TRADE_REFUND, "40004", "ACQ.TRADE_HAS_FINISHED"): Rule(
            REFUSED, REF_5, note="the refund period is over"
        ),
        (TRADE_REFUND, "40004", "ACQ.SELLER_BALANCE_NOT_ENOUGH"): Rule(REFUSED, REF_5),
        (TRADE_REFUND, "40004", "ACQ.DISCORDANT_REPEAT_REQUEST"): Rule(REFUSED, REF_5),
        (TRADE_REFUND, "40004", "ACQ.TRADE_NOT_EXIST"): Rule(REFUSED, REFUND_DOC),
        (TRADE_REFUND, "40004", "ACQ.TRADE_NOT_ALLOW_REFUND"): Rule(REFUSED, REFUND_DOC),
        # alipay.trade.close
        (TRADE_CLOSE, "40004", "ACQ.TRADE_STATUS_ERROR"): Rule(
            UNKNOWN, CLOSE_DOC, note="not waiting for payment: it may have been paid; query"
        ),
        (TRADE_CLOSE, "40004", "ACQ.TRADE_HAS_CLOSE"): Rule(DONE, CLOSE_DOC, already_done=True),
        (TRADE_CLOSE, "40004", "ACQ.TRADE_NOT_EXIST"): Rule(REFUSED, CLOSE_DOC),
        # alipay.trade.fastpay.refund.query
        (REFUND_QUERY, "40004", "ACQ.TRADE_NOT_EXIST"): Rule(REFUSED, REFUND_QUERY_DOC),
        # alipay.fund.auth.order.unfreeze
        (UNFREEZE, "40004", "ORDER_ALREADY_FINISH"): Rule(
            UNKNOWN, UNFREEZE_DOC, note="a COMPLETE may have released it first: query"
        ),
        (UNFREEZE, "40004", "ORDER_ALREADY_CLOSED"): Rule(
            UNKNOWN, UNFREEZE_DOC, note="everything was released, perhaps by this: query"
        ),
        (UNFREEZE, "40004", "REQUEST_AMOUNT_EXCEED"): Rule(REFUSED, UNFREEZE_DOC),
        (UNFREEZE, "40004", "DISCORDANT_REPEAT_REQUEST"): Rule(REFUSED, UNFREEZE_DOC),
        (UNFREEZE, "40004", "AUTH_ORDER_NOT_EXIST"): Rule(REFUSED, UNFREEZE_DOC),
        (UNFREEZE, "40004", "ILLEGAL_ARGUMENT"): Rule(REFUSED, UNFREEZE_DOC),
        # alipay.fund.auth.operation.detail.query ("refused" = there is no such operation)
        (DETAIL_QUERY, "40004", "AUTH_ORDER_NOT_EXIST"): Rule(REFUSED, DETAIL_DOC),
        (DETAIL_QUERY, "40004", "AUTH_OPERATION_NOT_EXIST"): Rule(REFUSED, DETAIL_DOC),
        (DETAIL_QUERY, "40004", "ORDER_NOT_EXIST"): Rule(REFUSED, DETAIL_DOC),
        (DETAIL_QUERY, "40004", "OPERATION_NOT_EXIST"): Rule(REFUSED, DETAIL_DOC),
    }
    return rows


RULES: dict[tuple[str, str, str], Rule] = _rows()
UNLISTED_FAILURE = Rule(REFUSED, REF_3, note="40001-40006: the gateway refused; nothing done")
UNLISTED_OTHER = Rule(UNKNOWN, REF_3, note="an answer the table does not know: query")
NO_ANSWER = Rule(UNKNOWN, REF_3, note="timeout, unreachable, or an answer that does not verify")


def rule_for(method: str, code: str, sub_code: str = "") -> Rule:
    """The row that applies to this answer (most specific first)."""
    if code == SUCCESS and not sub_code:
        return RULES[(ANY, SUCCESS, "")]
    for key in ((method, code, sub_code), (method, code, ANY), (ANY, code, sub_code),
                (ANY, code, ANY)):  # fmt: skip
        if key in RULES:
            return RULES[key]
    return UNLISTED_FAILURE if code.startswith("400") else UNLISTED_OTHER


@dataclass(frozen=True)
class Outcome:
    """What one money call came to; `answer` is the verified inner object (empty if none)."""

    method: str
    status: str
    code: str = ""
    sub_code: str = ""
    sub_msg: str = ""
    source: str = ""
    already_done: bool = False
    answer: dict[str, Any] = field(default_factory=dict)
    error: Exception | None = None

    @property
    def done(self) -> bool:
        return self.status == DONE

    @property
    def refused(self) -> bool:
        return self.status == REFUSED

    @property
    def unknown(self) -> bool:
        return self.status == UNKNOWN

    def raise_unless_done(self) -> dict[str, Any]:
        """The answer of a done call; otherwise the error a caller of `call` would expect.

        Refused → `GatewayRejected`; unknown → the transport's own error when there was one
        (timeout, bad signature), else `GatewayOutcomeUnknown` (a 503: try again later).
        """
        if self.done:
            return self.answer
        if self.refused:
            if isinstance(self.error, GatewayRejected):
                raise self.error
            raise GatewayRejected(self.method, self.code, "", self.sub_code, self.sub_msg)
        if self.error is not None and not isinstance(self.error, GatewayRejected):
            raise self.error
        raise GatewayOutcomeUnknown(self.method, self.code, self.sub_code)


def table_rows() -> list[tuple[str, str, str, Rule]]:
    """The table as rows, in order, for the README and the tests."""
    return [(method, code, sub_code, rule) for (method, code, sub_code), rule in RULES.items()]


def markdown_table() -> str:
    """The table as the README shows it."""
    lines = ["| method | code | sub_code | outcome | source | note |", "|---|---|---|---|---|---|"]
    for method, code, sub_code, rule in table_rows():
        shown = "already done" if rule.already_done else rule.outcome
        lines.append(
            f"| `{method}` | {code} | {sub_code or '–'} | {shown} | {rule.source} | {rule.note} |"
        )
    return "\n".join(lines)
