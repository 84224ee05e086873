"""Fund authorisations (deposit holds) as the platform keeps them: frozen, unfrozen, paid from.

A freeze splits its amount in two: the part the payer's Zhima credit waives (`credit`, up to the
profile's `waiver_limit_fen`, nothing when the person cannot be evaluated) and the part really
taken from the balance and held (`fund`). Releases give back real money first, then waived
credit; payments take held money first (see fund_auth_pay.py). Every operation is keyed by the
merchant's `out_request_no`, so a retried request answers the first result and never moves money
twice. Each change queues its notification in its own transaction. Amounts are integer fen.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from typing import Any

from service.gateway.money import fen_to_yuan
from service.mock_idp.balances import move_balance
from service.mock_idp.demo_users import balance_text
from service.mock_idp.fund_auth_records import (
    AUTHORIZED,
    CLOSED,
    FINISH,
    FREEZE,
    SUCCESS,
    UNFREEZE,
    AuthOperation,
    AuthOrder,
    FreezeRequest,
    FundAuthRefused,
    insert_record,
    locked_order,
    new_auth_no,
    new_operation_id,
    operation_by_request,
    operation_where,
    order_where,
    request_digest,
)
from service.mock_idp.fund_auth_wire import notification_fields
from service.mock_idp.notifications import new_notify_id, queue_notification
from service.mock_idp.store import MockStore


@dataclass(frozen=True)
class Freeze:
    """What confirming a freeze came to; `repeated` when it had been confirmed before."""

    order: AuthOrder
    operation: AuthOperation
    repeated: bool


def freeze_split(user: dict[str, Any], amount_fen: int) -> tuple[int, int]:
    """(credit, fund): credit waives up to the waiver limit when the person can be evaluated."""
    credit = user.get("credit") or {}
    waivable = credit.get("waiver_limit_fen", 0) if credit.get("evaluable") else 0
    credit_fen = min(amount_fen, waivable)
    return credit_fen, amount_fen - credit_fen


def freeze(
    store: MockStore,
    platform_key: Any,
    request: FreezeRequest,
    payer_user_id: str,
    now: float,
    *,
    notify: bool = True,
) -> Freeze:
    """What the payer's Confirm does: split, hold the fund part, record, notify (unless not)."""
    digest = request.digest(payer_user_id)
    with store.transaction() as db:
        earlier = order_where(
            db, "app_id = ? AND out_order_no = ?", request.app_id, request.out_order_no
        )
        if earlier is not None:
            return Freeze(earlier, _repeated_freeze(db, earlier, request, digest), repeated=True)
        user = _payer(db, payer_user_id)
        credit_fen, fund_fen = freeze_split(user, request.amount_fen)
        if user.get("balance_fen", 0) < fund_fen:
            raise FundAuthRefused(
                "PAYER_BALANCE_NOT_ENOUGH",
                f"余额不足：需冻结 {fen_to_yuan(fund_fen)} 元"
                f"（信用免押 {fen_to_yuan(credit_fen)} 元），"
                f"余额 {balance_text(user.get('balance_fen', 0))} 元",
            )
        move_balance(db, payer_user_id, -fund_fen)
        order = AuthOrder(
            auth_no=new_auth_no(now), app_id=request.app_id, out_order_no=request.out_order_no,
            payer_user_id=payer_user_id, order_title=request.order_title,
            product_code=request.product_code, extra_param=request.extra_param,
            notify_url=request.notify_url, status=AUTHORIZED, freeze_fen=request.amount_fen,
            credit_fen=credit_fen, fund_fen=fund_fen, rest_credit_fen=credit_fen,
            rest_fund_fen=fund_fen, unfrozen_fen=0, paid_fen=0, created_at=now,
        )  # fmt: skip
        insert_record(db, "fund_auth_orders", order)
        operation = AuthOperation(
            operation_id=new_operation_id(now), auth_no=order.auth_no,
            out_request_no=request.out_request_no, operation_type=FREEZE,
            amount_fen=request.amount_fen, credit_fen=credit_fen, fund_fen=fund_fen,
            status=SUCCESS, remark=None, trade_no=None, request_digest=digest, notify_id=None,
            created_at=now,
        )  # fmt: skip
        operation = record_operation(
            store,
            db,
            platform_key,
            order,
            operation,
            notify_url=order.notify_url if notify else None,
        )
    return Freeze(order, operation, repeated=False)


def _repeated_freeze(
    db: sqlite3.Connection, order: AuthOrder, request: FreezeRequest, digest: str
) -> AuthOperation:
    """The first freeze again for a retry; another request under the same order is refused."""
    operation = operation_where(db, "auth_no = ? AND operation_type = ?", order.auth_no, FREEZE)
    if operation is None:  # an order is created with its freeze, in one transaction
        raise LookupError(f"fund auth order {order.auth_no} has no freeze")
    if operation.out_request_no != request.out_request_no:
        raise FundAuthRefused(
            "ORDER_ALREADY_EXIST",
            "该 out_order_no 已有冻结（mock 每个授权订单只支持一次冻结），请使用新的 out_order_no",
        )
    if operation.request_digest != digest:
        raise FundAuthRefused(
            "DISCORDANT_REPEAT_REQUEST", "请求信息不一致：同一冻结请求号的金额、标题或付款人不同"
        )
    return operation


def _payer(db: sqlite3.Connection, user_id: str) -> dict[str, Any]:
    row = db.execute("SELECT profile FROM users WHERE user_id = ?", (user_id,)).fetchone()
    if row is None:
        raise FundAuthRefused("PAYER_NOT_EXIST", "付款人不存在")
    return json.loads(row["profile"])


def unfreeze(
    store: MockStore,
    platform_key: Any,
    order: AuthOrder,
    out_request_no: str,
    amount_fen: int,
    now: float,
    *,
    remark: str | None = None,
    notify_url: str | None = None,
) -> tuple[AuthOrder, AuthOperation]:
    """Release part of a hold (real money first), once per out_request_no, and notify."""
    digest = request_digest(UNFREEZE, amount_fen)
    with store.transaction() as db:
        order = locked_order(db, order.auth_no)
        earlier = operation_by_request(db, order.auth_no, out_request_no)
        if earlier is not None:
            if earlier.request_digest != digest:
                raise FundAuthRefused(
                    "DISCORDANT_REPEAT_REQUEST", "请求信息不一致：同一解冻请求号的金额不同"
                )
            return order, earlier
        check_open(order)
        if amount_fen > order.rest_fen:
            raise FundAuthRefused(
                "REQUEST_AMOUNT_EXCEED",
                f"解冻金额超过剩余冻结金额：最多还可解冻 {fen_to_yuan(order.rest_fen)} 元",
            )
        return release(
            store, db, platform_key, order, out_request_no, amount_fen, now,
            remark=remark, digest=digest, notify_url=notify_url or order.notify_url,
        )  # fmt: skip


def release(
    store: MockStore,
    db: sqlite3.Connection,
    platform_key: Any,
    order: AuthOrder,
    out_request_no: str,
    amount_fen: int,
    now: float,
    *,
    remark: str | None,
    digest: str,
    notify_url: str | None,
) -> tuple[AuthOrder, AuthOperation]:
    """An UNFREEZE inside the caller's transaction: real money back to the balance first."""
    fund_fen = min(amount_fen, order.rest_fund_fen)
    credit_fen = amount_fen - fund_fen
    order = replace(
        order,
        rest_fund_fen=order.rest_fund_fen - fund_fen,
        rest_credit_fen=order.rest_credit_fen - credit_fen,
        unfrozen_fen=order.unfrozen_fen + amount_fen,
    )
    order = save_totals(db, order)
    if fund_fen:
        move_balance(db, order.payer_user_id, fund_fen)
    operation = AuthOperation(
        operation_id=new_operation_id(now), auth_no=order.auth_no, out_request_no=out_request_no,
        operation_type=UNFREEZE, amount_fen=amount_fen, credit_fen=credit_fen, fund_fen=fund_fen,
        status=SUCCESS, remark=remark, trade_no=None, request_digest=digest, notify_id=None,
        created_at=now,
    )  # fmt: skip
    return order, record_operation(store, db, platform_key, order, operation, notify_url=notify_url)


def save_totals(db: sqlite3.Connection, order: AuthOrder) -> AuthOrder:
    """Store an order's new totals, closing or finishing it when nothing is held any more."""
    if order.rest_fen == 0:
        order = replace(order, status=FINISH if order.paid_fen else CLOSED)
    db.execute(
        "UPDATE fund_auth_orders SET status = ?, rest_credit_fen = ?, rest_fund_fen = ?,"
        " unfrozen_fen = ?, paid_fen = ? WHERE auth_no = ?",
        (
            order.status, order.rest_credit_fen, order.rest_fund_fen, order.unfrozen_fen,
            order.paid_fen, order.auth_no,
        ),
    )  # fmt: skip
    return order


def record_operation(
    store: MockStore,
    db: sqlite3.Connection,
    platform_key: Any,
    order: AuthOrder,
    operation: AuthOperation,
    *,
    notify_url: str | None,
) -> AuthOperation:
    """Store an operation; a freeze or unfreeze with a notify_url also queues its notification."""
    if notify_url and operation.operation_type in (FREEZE, UNFREEZE):
        app = store.get_app(order.app_id)
        fields = notification_fields(
            app, order, operation, notify_id=new_notify_id(), now=operation.created_at
        )
        notify_id = queue_notification(
            store, db, fields=fields, notify_url=notify_url, platform_key=platform_key,
            now=operation.created_at, subject_id=order.auth_no,
        )  # fmt: skip
        operation = replace(operation, notify_id=notify_id)
    insert_record(db, "fund_auth_operations", operation)
    return operation


def check_open(order: AuthOrder) -> None:
    """Refuse any money movement on an order with nothing held any more."""
    if order.status == CLOSED:
        raise FundAuthRefused("ORDER_ALREADY_CLOSED", "授权订单已经关闭，无法再进行资金操作")
    if order.status == FINISH:
        raise FundAuthRefused("ORDER_ALREADY_FINISH", "授权订单已经完结，无法再进行资金操作")
