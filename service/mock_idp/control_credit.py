"""`/_mock/users/<id>/credit`, `/_mock/fund-auth/…`: set a person's credit, drive deposit holds.

Confirming here is what the payer's Confirm in the freeze cashier does, without a browser: the
orderStr is verified exactly as gateway.do verifies a call, the hold is split and frozen, and
`fund_auth_freeze` is queued. `"notify": false` loses that notification on purpose, so a test
can show that the merchant reconciles through `alipay.fund.auth.operation.detail.query`.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from service.mock_idp import notifications
from service.mock_idp.control import ControlError, json_object
from service.mock_idp.demo_users import UserInvalid, validated_credit
from service.mock_idp.freeze_order import (
    OrderStrInvalid,
    default_payer,
    order_parameters,
    verified_freeze,
)
from service.mock_idp.fund_auth import freeze
from service.mock_idp.fund_auth_records import (
    AuthOrder,
    FreezeRequest,
    FundAuthRefused,
    get_order,
    list_orders,
    operations_of,
)
from service.mock_idp.fund_auth_wire import order_json
from service.mock_idp.runtime import current_platform_key, current_store

credit_control_blueprint = Blueprint("mock_control_credit", __name__, url_prefix="/_mock")
CREDIT_FIELDS = ("zm_score", "waiver_limit_fen", "evaluable")
# Refusals of a freeze and the control API's answer to each: (HTTP status, error).
_FREEZE_REFUSALS = {
    "PAYER_BALANCE_NOT_ENOUGH": (400, "insufficient_balance"),
    "PAYER_NOT_EXIST": (404, "user_not_found"),
    "ORDER_ALREADY_EXIST": (409, "order_already_frozen"),
    "DISCORDANT_REPEAT_REQUEST": (409, "discordant_repeat_request"),
}


@credit_control_blueprint.errorhandler(ControlError)
def _control_error(error: ControlError) -> tuple[Response, int]:
    return jsonify(error=error.error, detail=error.detail), error.status


@credit_control_blueprint.put("/users/<user_id>/credit")
def change_credit(user_id: str) -> Response:
    """Merge `zm_score`, `waiver_limit_fen`, `evaluable` into a user's credit; answer it."""
    body = json_object()
    unknown = sorted(set(body) - set(CREDIT_FIELDS))
    if unknown:
        raise ControlError(
            400, "invalid_credit", f"unknown fields {unknown}; allowed: {list(CREDIT_FIELDS)}"
        )

    def merged(profile: dict[str, Any]) -> dict[str, Any]:
        credit = {**profile.get("credit", {}), **body}
        # A score is dropped, not kept, when the person stops being evaluable (or had none).
        if "zm_score" not in body and (
            not credit.get("evaluable") or credit.get("zm_score") is None
        ):
            credit.pop("zm_score", None)
        return {**profile, "credit": validated_credit(credit)}

    try:
        profile = current_store().update_user(user_id, merged)
    except UserInvalid as exc:
        raise ControlError(400, "invalid_credit", str(exc)) from None
    if profile is None:
        raise ControlError(404, "user_not_found", f"no user {user_id!r}")
    return jsonify(user_id=user_id, **profile["credit"])


def _freeze_of_body(body: dict[str, Any]) -> FreezeRequest:
    order_str = body.get("order_str")
    if not isinstance(order_str, str):
        raise ControlError(400, "invalid_order_str", "order_str must be the orderStr string")
    try:
        return verified_freeze(current_store(), order_parameters(order_str), time.time())
    except OrderStrInvalid as exc:
        raise ControlError(400, "invalid_order_str", str(exc)) from None


def _payer_of_body(body: dict[str, Any], freeze_ask: FreezeRequest) -> str:
    user_id = body.get("user_id")
    if user_id is None:
        user_id = default_payer(current_store(), freeze_ask.app_id)
        if user_id is None:
            raise ControlError(
                409, "no_payer", "no user_id given and nobody granted this app auth_zhima"
            )
    if not isinstance(user_id, str) or current_store().get_user(user_id) is None:
        raise ControlError(404, "user_not_found", f"no user {user_id!r}")
    return user_id


@credit_control_blueprint.post("/fund-auth/confirm")
def confirm() -> Response:
    """The payer confirms a freeze orderStr: `{"order_str", "user_id"?, "notify"?}`."""
    body = json_object()
    notify = body.get("notify", True)
    if not isinstance(notify, bool):
        raise ControlError(400, "invalid_notify", "notify must be true or false")
    freeze_ask = _freeze_of_body(body)
    payer_id = _payer_of_body(body, freeze_ask)
    try:
        frozen = freeze(
            current_store(), current_platform_key(), freeze_ask, payer_id, time.time(),
            notify=notify,
        )  # fmt: skip
    except FundAuthRefused as refusal:
        status, error = _FREEZE_REFUSALS.get(refusal.sub_code, (409, "freeze_refused"))
        raise ControlError(status, error, f"{refusal.sub_code}: {refusal.sub_msg}") from None
    order, operation = frozen.order, frozen.operation
    return jsonify(
        auth_no=order.auth_no,
        operation_id=operation.operation_id,
        out_order_no=order.out_order_no,
        out_request_no=operation.out_request_no,
        status="SUCCESS",
        order_status=order.status,
        payer_user_id=order.payer_user_id,
        amount_fen=operation.amount_fen,
        credit_amount_fen=operation.credit_fen,
        fund_amount_fen=operation.fund_fen,
        notify_id=operation.notify_id,
        repeated=frozen.repeated,
    )


@credit_control_blueprint.post("/fund-auth/cancel")
def cancel() -> Response:
    """The payer cancels in the cashier: nothing is frozen (409 if it was confirmed already)."""
    freeze_ask = _freeze_of_body(json_object())
    found = list_orders(
        current_store(), app_id=freeze_ask.app_id, out_order_no=freeze_ask.out_order_no
    )
    if found:
        raise ControlError(
            409,
            "order_already_frozen",
            f"{freeze_ask.out_order_no} is frozen as {found[0].auth_no}",
        )
    return jsonify(
        cancelled=True,
        out_order_no=freeze_ask.out_order_no,
        out_request_no=freeze_ask.out_request_no,
        result_code="6001",
    )


def _shown(order: AuthOrder) -> dict[str, Any]:
    store = current_store()
    return {
        **order_json(order, operations_of(store, order.auth_no)),
        "notifications": notifications.list_notifications(store, auth_no=order.auth_no),
    }


@credit_control_blueprint.get("/fund-auth")
def list_fund_auth_orders() -> Response:
    """Every hold (filter: `app_id`, `out_order_no`, `status`), oldest first."""
    filters = {name: request.args.get(name) for name in ("app_id", "out_order_no", "status")}
    return jsonify(orders=[_shown(order) for order in list_orders(current_store(), **filters)])


@credit_control_blueprint.get("/fund-auth/<auth_no>")
def show_fund_auth_order(auth_no: str) -> Response:
    """One hold with its totals, its operations and the notifications it caused."""
    order = get_order(current_store(), auth_no)
    if order is None:
        raise ControlError(404, "auth_order_not_found", f"no fund authorisation {auth_no!r}")
    return jsonify(_shown(order))
