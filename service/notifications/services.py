"""Receiving a notification: verify, de-duplicate on notify_id, hand to its capability, commit.

The handler's state change, the notification's record and the de-duplication all commit in one
transaction, and the route answers `success` only after that commit: if anything fails the
gateway hears a failure and delivers again, and the repeat finds nothing recorded.

A signed notification that is not ours (another app, another seller account) or that its
handler cannot accept (another trade, another buyer, another amount) is *refused*: recorded
with outcome `refused` and the reason, logged without personal data, counted in `/metrics`
(`minifin_notifications_refused_total{reason}`), and still answered `success`, because no
redelivery can make it acceptable and the platform would otherwise retry it for a day.

A notification of a type no capability handles is *parked*: recorded with outcome `unhandled`,
counted in `/metrics` (`minifin_notifications_unhandled{notify_type}`), and answered with a 503,
so the platform keeps delivering it; the first delivery after a handler exists applies it. It is
never acknowledged as done, since nothing was done with it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import select, update

from service.components import gateway, notification_handlers
from service.dbtypes import utcnow
from service.errors import InvalidRequest, ServiceUnavailable
from service.extensions import db
from service.notifications.merchant import addressed_to_our_app, seller_refusal
from service.notifications.models import HANDLED, REFUSED, UNHANDLED, GatewayNotification
from service.sql import insert_ignoring_conflicts, rows_changed

log = logging.getLogger(__name__)
# Fields worth logging: identifiers and states, never names, accounts or amounts.
_LOGGED_FIELDS = ("notify_type", "notify_id", "out_trade_no", "out_order_no", "trade_status")


class BadNotificationSignature(InvalidRequest):
    code = "invalid_notification_signature"


class NotificationTooEarly(ServiceUnavailable):
    """A handler's answer to a notification about something not yet recorded on this side.

    Nothing is committed and the gateway hears a failure, so it delivers again later, by when
    the rest of the story has arrived (the platform retries on its schedule).
    """

    code = "notification_too_early"


class NotificationUnhandled(ServiceUnavailable):
    """The answer to a notification of a type no capability handles: parked, not acknowledged,
    so that the platform delivers it again (and it is applied once a handler exists)."""

    code, title = "notification_unhandled", "Notification type not handled"


def _dispatch_refusal(fields: Mapping[str, str]) -> str | None:
    """Why a verified notification is not addressed to this merchant, or None."""
    if not addressed_to_our_app(fields):
        return "app_mismatch"
    return seller_refusal(fields)


def receive_notification(fields: Mapping[str, str]) -> str:
    """Apply one notification at most once; returns `handled`, `refused` or `duplicate`, and
    raises NotificationUnhandled for a type no capability handles (parked)."""
    summary = {k: fields.get(k) for k in _LOGGED_FIELDS if fields.get(k)}
    if not gateway().verify_notification(fields):
        log.warning("rejected a notification whose signature does not verify: %s", summary)
        raise BadNotificationSignature("The notification's signature does not verify.")
    notify_id, notify_type = fields.get("notify_id", ""), fields.get("notify_type", "")
    if not notify_id or not notify_type:
        raise InvalidRequest("A notification needs notify_id and notify_type.")
    # Each capability declares its handlers (service/contributions.py, NotificationHandler).
    handler = notification_handlers().get(notify_type)
    refusal = _dispatch_refusal(fields)
    if refusal is None and handler is None:
        return _park_unhandled(notify_id, notify_type, fields, summary)
    outcome = REFUSED if refusal else HANDLED
    record = _record_values(notify_id, notify_type, fields, outcome, refusal)
    fresh = insert_ignoring_conflicts(GatewayNotification, record) or _take_parked(record)
    if not fresh:
        db.session.rollback()
        log.info("notification repeated, already applied: %s", summary)
        return "duplicate"
    if refusal is None and handler is not None:
        try:
            refusal = handler(fields)
        except BaseException:
            db.session.rollback()  # not recorded: the delivery that comes again is applied then
            raise
        if refusal is not None:
            outcome = REFUSED
            db.session.execute(
                update(GatewayNotification)
                .where(GatewayNotification.notify_id == notify_id)
                .values(outcome=REFUSED, refusal=refusal)
                .execution_options(synchronize_session=False)
            )
    db.session.commit()
    if refusal is not None:
        log.warning("notification refused (%s), recorded and acknowledged: %s", refusal, summary)
    else:
        log.info("notification %s: %s", outcome, summary)
    return outcome


def _record_values(
    notify_id: str, notify_type: str, fields: Mapping[str, str], outcome: str, refusal: str | None
) -> dict:
    return {
        "notify_id": notify_id,
        "notify_type": notify_type,
        "fields": {k: v for k, v in fields.items() if k != "sign"},
        "outcome": outcome,
        "refusal": refusal,
        "received_at": utcnow(),
    }


def _take_parked(record: dict) -> bool:
    """A delivery of a notification parked as unhandled takes its record over (one conditional
    update, so of two concurrent deliveries one applies it and the other is a duplicate)."""
    return bool(
        rows_changed(
            update(GatewayNotification)
            .where(GatewayNotification.notify_id == record["notify_id"],
                   GatewayNotification.outcome == UNHANDLED)
            .values(outcome=record["outcome"], refusal=record["refusal"],
                    received_at=record["received_at"])
            .execution_options(synchronize_session=False)
        )
    )  # fmt: skip


def _park_unhandled(
    notify_id: str, notify_type: str, fields: Mapping[str, str], summary: Mapping[str, object]
) -> str:
    """Record a notification no capability handles and answer so that it is delivered again."""
    record = _record_values(notify_id, notify_type, fields, UNHANDLED, None)
    if not insert_ignoring_conflicts(GatewayNotification, record):
        known = db.session.scalar(
            select(GatewayNotification.outcome).where(GatewayNotification.notify_id == notify_id)
        )
        if known != UNHANDLED:  # applied before (by a handler since removed): done already
            db.session.rollback()
            log.info("notification repeated, already applied: %s", summary)
            return "duplicate"
    db.session.commit()
    log.warning("no handler for notification type %s; parked, the platform will deliver it "
                "again: %s", notify_type, summary)  # fmt: skip
    raise NotificationUnhandled(
        f"No handler for notification type {notify_type!r} yet; it is kept and will be applied "
        "when delivered again."
    )
