"""`/_mock/trades`, `/_mock/notifications`, `/_mock/inbox`: drive and inspect payments in tests.

Paying here is what the cashier's Pay button does, without a browser; finishing a trade reaches
TRADE_FINISHED, which the platform only reaches when a refund period ends. `…/notify` sends the
trade's `trade_status_sync` again with chosen fields replaced (a genuinely signed notification
that does not match the merchant's records), so tests can make the merchant refuse one.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from service.mock_idp import courier, notifications
from service.mock_idp.control import ControlError
from service.mock_idp.inbox import list_inbox
from service.mock_idp.refunds import list_refunds
from service.mock_idp.runtime import current_platform_key, current_store
from service.mock_idp.trade_notices import notify_trade_status
from service.mock_idp.trade_records import Trade, TradeRefused, get_trade
from service.mock_idp.trades import finish_trade, pay_trade

payments_control_blueprint = Blueprint("mock_control_payments", __name__, url_prefix="/_mock")
_STATES = (notifications.PENDING, notifications.DELIVERED, notifications.FAILED)


@payments_control_blueprint.errorhandler(ControlError)
def _control_error(error: ControlError) -> tuple[Response, int]:
    return jsonify(error=error.error, detail=error.detail), error.status


def _trade_json(trade: Trade) -> dict[str, Any]:
    store = current_store()
    return {
        **trade.to_json(),
        "refunds": [refund.to_json() for refund in list_refunds(store, trade.trade_no)],
        "notifications": notifications.list_notifications(store, trade_no=trade.trade_no),
    }


def _existing_trade(trade_no: str) -> Trade:
    trade = get_trade(current_store(), trade_no)
    if trade is None:
        raise ControlError(404, "trade_not_found", f"no trade {trade_no!r}")
    return trade


@payments_control_blueprint.get("/trades/<trade_no>")
def show_trade(trade_no: str) -> Response:
    """A trade with its refunds and the notifications it caused."""
    return jsonify(_trade_json(_existing_trade(trade_no)))


@payments_control_blueprint.post("/trades/<trade_no>/pay")
def pay(trade_no: str) -> Response:
    """The buyer pays: 409 unless WAIT_BUYER_PAY, 400 when the balance is short."""
    _existing_trade(trade_no)
    try:
        trade = pay_trade(current_store(), current_platform_key(), trade_no, time.time())
    except TradeRefused as refusal:
        if refusal.sub_code == "ACQ.BUYER_BALANCE_NOT_ENOUGH":
            raise ControlError(400, "insufficient_balance", refusal.sub_msg) from None
        raise ControlError(409, "trade_not_payable", refusal.sub_msg) from None
    return jsonify(_trade_json(trade))


@payments_control_blueprint.post("/trades/<trade_no>/finish")
def finish(trade_no: str) -> Response:
    """End a paid trade's refund period now (TRADE_FINISHED, notified); 409 unless paid."""
    _existing_trade(trade_no)
    try:
        trade = finish_trade(current_store(), current_platform_key(), trade_no, time.time())
    except TradeRefused as refusal:
        raise ControlError(409, "trade_not_finishable", refusal.sub_msg) from None
    return jsonify(_trade_json(trade))


@payments_control_blueprint.post("/trades/<trade_no>/notify")
def notify(trade_no: str) -> Response:
    """Queue the trade's `trade_status_sync` as it stands, with `fields` replaced (null drops
    one); answers the notification. 409 when the trade has no notify_url."""
    trade = _existing_trade(trade_no)
    changes = (request.get_json(silent=True) or {}).get("fields") or {}
    if not isinstance(changes, dict) or not all(
        isinstance(value, str | None) for value in changes.values()
    ):
        raise ControlError(400, "invalid_fields", "fields maps names to strings (or null)")
    store = current_store()
    with store.transaction() as db:
        notify_id = notify_trade_status(
            store, db, current_platform_key(), trade, time.time(), changes=changes
        )
    if notify_id is None:
        raise ControlError(409, "no_notify_url", "the trade was created without a notify_url")
    return jsonify(notifications.show_notification(store, notify_id))


@payments_control_blueprint.get("/inbox/<user_id>")
def inbox(user_id: str) -> Response:
    """The template messages a user received, newest last."""
    store = current_store()
    if store.get_user(user_id) is None:
        raise ControlError(404, "user_not_found", f"no user {user_id!r}")
    return jsonify(user_id=user_id, messages=list_inbox(store, user_id))


@payments_control_blueprint.get("/notifications")
def list_notifications() -> Response:
    """Every notification (filter: `trade_no`, `auth_no`, `state`), oldest first, with attempts."""
    state = request.args.get("state")
    if state and state not in _STATES:
        raise ControlError(400, "invalid_state", f"state must be one of {list(_STATES)}")
    found = notifications.list_notifications(
        current_store(),
        trade_no=request.args.get("trade_no"),
        auth_no=request.args.get("auth_no"),
        state=state,
    )
    return jsonify(notifications=found)


@payments_control_blueprint.get("/notifications/<notify_id>")
def show_notification(notify_id: str) -> Response:
    """One notification with its attempts."""
    found = notifications.show_notification(current_store(), notify_id)
    if found is None:
        raise ControlError(404, "notification_not_found", f"no notification {notify_id!r}")
    return jsonify(found)


@payments_control_blueprint.post("/notifications/<notify_id>/redeliver")
def redeliver(notify_id: str) -> Response:
    """One immediate attempt, recorded; answers the notification as it stands afterwards."""
    store = current_store()
    if courier.deliver_now(store, notify_id) is None:
        raise ControlError(404, "notification_not_found", f"no notification {notify_id!r}")
    return jsonify(notifications.show_notification(store, notify_id))
