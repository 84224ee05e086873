"""How a fund authorisation looks on the wire: yuan amounts, payer ids, totals, platform times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from service.gateway.money import fen_to_yuan
from service.mock_idp.grants import open_id_for
from service.mock_idp.protocol import beijing_time

if TYPE_CHECKING:
    from service.mock_idp.apps import AppRecord
    from service.mock_idp.fund_auth_records import AuthOperation, AuthOrder

CURRENCY = "CNY"
CREDIT_AUTH = "CREDIT_AUTH"  # pre_auth_type of an order credit waived anything of
NOTIFY_TYPES = {"FREEZE": "fund_auth_freeze", "UNFREEZE": "fund_auth_unfreeze"}


def payer_ids(app: AppRecord | None, user_id: str) -> dict[str, str]:
    """`payer_user_id` and/or `payer_open_id`, as the app's id_mode lets the platform show them."""
    id_mode = app.id_mode if app is not None else "user_id"
    ids = {}
    if id_mode in ("user_id", "both"):
        ids["payer_user_id"] = user_id
    if id_mode in ("open_id", "both") and app is not None:
        ids["payer_open_id"] = open_id_for(app.app_id, user_id)
    return ids


def order_totals(order: AuthOrder) -> dict[str, str]:
    """The order's running totals as they stand now."""
    return {
        "total_freeze_amount": fen_to_yuan(order.freeze_fen),
        "total_unfreeze_amount": fen_to_yuan(order.unfrozen_fen),
        "total_pay_amount": fen_to_yuan(order.paid_fen),
        "rest_amount": fen_to_yuan(order.rest_fen),
        "rest_credit_amount": fen_to_yuan(order.rest_credit_fen),
        "rest_fund_amount": fen_to_yuan(order.rest_fund_fen),
    }


def split_fields(operation: AuthOperation) -> dict[str, str]:
    """This operation's credit/fund split."""
    return {
        "credit_amount": fen_to_yuan(operation.credit_fen),
        "fund_amount": fen_to_yuan(operation.fund_fen),
    }


def _credit_waived(order: AuthOrder) -> dict[str, str]:
    return {"pre_auth_type": CREDIT_AUTH} if order.credit_fen else {}


def operation_fields(app: AppRecord | None, order: AuthOrder, operation: AuthOperation) -> dict:
    """`alipay.fund.auth.operation.detail.query`'s business fields: the operation, the totals."""
    fields: dict[str, Any] = {
        "auth_no": order.auth_no,
        "out_order_no": order.out_order_no,
        "operation_id": operation.operation_id,
        "out_request_no": operation.out_request_no,
        "operation_type": operation.operation_type,
        "amount": fen_to_yuan(operation.amount_fen),
        "status": operation.status,
        "gmt_create": beijing_time(operation.created_at),
        "gmt_trans": beijing_time(operation.created_at),
        "order_title": order.order_title,
        "trans_currency": CURRENCY,
        **order_totals(order),
        **split_fields(operation),
        **_credit_waived(order),
        **payer_ids(app, order.payer_user_id),
    }
    if operation.remark:
        fields["remark"] = operation.remark
    return fields


def unfreeze_fields(order: AuthOrder, operation: AuthOperation) -> dict[str, str]:
    """`alipay.fund.auth.order.unfreeze`'s business fields: this release and its split."""
    return {
        "auth_no": order.auth_no,
        "out_order_no": order.out_order_no,
        "operation_id": operation.operation_id,
        "out_request_no": operation.out_request_no,
        "amount": fen_to_yuan(operation.amount_fen),
        "status": operation.status,
        "gmt_trans": beijing_time(operation.created_at),
        **split_fields(operation),
    }


def notification_fields(
    app: AppRecord | None, order: AuthOrder, operation: AuthOperation, *, notify_id: str, now: float
) -> dict[str, str]:
    """A `fund_auth_freeze`/`fund_auth_unfreeze` notification's fields before signing (§4)."""
    app_id = order.app_id
    return {
        "notify_time": beijing_time(now),
        "notify_type": NOTIFY_TYPES[operation.operation_type],
        "notify_id": notify_id,
        "app_id": app_id,
        "auth_app_id": app_id,
        "charset": "utf-8",
        "version": "1.0",
        **operation_fields(app, order, operation),
    }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def order_json(order: AuthOrder, operations: list[AuthOperation]) -> dict[str, Any]:
    """An order as the control API shows it: wire amounts and fen side by side."""
    return {
        "auth_no": order.auth_no,
        "app_id": order.app_id,
        "out_order_no": order.out_order_no,
        "payer_user_id": order.payer_user_id,
        "order_title": order.order_title,
        "product_code": order.product_code,
        "extra_param": order.extra_param,
        "notify_url": order.notify_url,
        "status": order.status,
        "pre_auth_type": CREDIT_AUTH if order.credit_fen else None,
        **order_totals(order),
        "amount_fen": order.freeze_fen,
        "credit_amount_fen": order.credit_fen,
        "fund_amount_fen": order.fund_fen,
        "rest_fen": order.rest_fen,
        "rest_credit_fen": order.rest_credit_fen,
        "rest_fund_fen": order.rest_fund_fen,
        "unfrozen_fen": order.unfrozen_fen,
        "paid_fen": order.paid_fen,
        "created_at": _iso(order.created_at),
        "operations": [operation_json(operation) for operation in operations],
    }


def operation_json(operation: AuthOperation) -> dict[str, Any]:
    """One operation as the control API shows it."""
    return {
        "operation_id": operation.operation_id,
        "out_request_no": operation.out_request_no,
        "operation_type": operation.operation_type,
        "status": operation.status,
        "amount": fen_to_yuan(operation.amount_fen),
        "amount_fen": operation.amount_fen,
        "credit_amount_fen": operation.credit_fen,
        "fund_amount_fen": operation.fund_fen,
        "remark": operation.remark,
        "trade_no": operation.trade_no,
        "notify_id": operation.notify_id,
        "created_at": _iso(operation.created_at),
    }
