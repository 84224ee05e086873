"""Receiving a notification: verify, de-duplicate on notify_id, hand to its capability, commit.

The handler's state change, the notification's record and the de-duplication all commit in one
transaction, and the route answers `success` only after that commit: if anything fails the
gateway hears a failure and delivers again, and the repeat finds nothing recorded.

A signed notification that is not ours (another app, another seller account) or that its
handler cannot accept (another trade, another buyer, another amount) is *refused*: recorded
with outcome `refused` and the reason, logged without personal data, counted in `/metrics`
(`minifin_notifications_refused_total{reason}`), and still answered `success`, because no
redelivery can make it acceptable and the platform would otherwise retry it for a day.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import update

from service.components import gateway, notification_handlers
from service.dbtypes import utcnow
from service.errors import InvalidRequest, ServiceUnavailable
from service.extensions import db
from service.notifications.merchant import addressed_to_our_app, seller_refusal
from service.notifications.models import HANDLED, IGNORED, REFUSED, GatewayNotification
from service.sql import insert_ignoring_conflicts

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


def _dispatch_refusal(fields: Mapping[str, str]) -> str | None:
    """Why a verified notification is not addressed to this merchant, or None."""
    if not addressed_to_our_app(fields):
        return "app_mismatch"
    return seller_refusal(fields)


def receive_notification(fields: Mapping[str, str]) -> str:
    """Apply one notification at most once; returns `handled`, `ignored`, `refused` or
    `duplicate`."""
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
    outcome = REFUSED if refusal else HANDLED if handler else IGNORED
    fresh = insert_ignoring_conflicts(
        GatewayNotification,
        {
            "notify_id": notify_id,
            "notify_type": notify_type,
            "fields": {k: v for k, v in fields.items() if k != "sign"},
            "outcome": outcome,
            "refusal": refusal,
            "received_at": utcnow(),
        },
    )
    if not fresh:
        db.session.rollback()
        log.info("notification repeated, already applied: %s", summary)
        return "duplicate"
    if refusal is None and handler is None:
        log.warning("no handler for notification type %s; recorded and acknowledged", notify_type)
    elif refusal is None:
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
