"""Receiving a notification: verify, de-duplicate on notify_id, hand to its capability, commit.

The handler's state change, the notification's record and the de-duplication all commit in one
transaction, and the route answers `success` only after that commit: if anything fails the
gateway hears a failure and delivers again, and the repeat finds nothing recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from service.components import gateway
from service.dbtypes import utcnow
from service.errors import InvalidRequest, ServiceUnavailable
from service.extensions import db
from service.notifications.models import HANDLED, IGNORED, GatewayNotification
from service.registry import HandlerRegistry
from service.sql import insert_ignoring_conflicts

log = logging.getLogger(__name__)
# Fields worth logging: identifiers and states, never names, accounts or amounts.
_LOGGED_FIELDS = ("notify_type", "notify_id", "out_trade_no", "out_order_no", "trade_status")

NotificationHandler = Callable[[Mapping[str, str]], None]
HANDLERS: HandlerRegistry[NotificationHandler] = HandlerRegistry("notification type")
notification_handler = HANDLERS.register  # `@notification_handler("trade_status_sync")`


class BadNotificationSignature(InvalidRequest):
    code = "invalid_notification_signature"


class NotificationTooEarly(ServiceUnavailable):
    """A handler's answer to a notification about something not yet recorded on this side.

    Nothing is committed and the gateway hears a failure, so it delivers again later, by when
    the rest of the story has arrived (the platform retries on its schedule).
    """

    code = "notification_too_early"


def receive_notification(fields: Mapping[str, str]) -> str:
    """Apply one notification at most once; returns `handled`, `ignored` or `duplicate`."""
    summary = {k: fields.get(k) for k in _LOGGED_FIELDS if fields.get(k)}
    if not gateway().verify_notification(fields):
        log.warning("rejected a notification whose signature does not verify: %s", summary)
        raise BadNotificationSignature("The notification's signature does not verify.")
    notify_id, notify_type = fields.get("notify_id", ""), fields.get("notify_type", "")
    if not notify_id or not notify_type:
        raise InvalidRequest("A notification needs notify_id and notify_type.")
    handler = HANDLERS.get(notify_type)
    fresh = insert_ignoring_conflicts(
        GatewayNotification,
        {
            "notify_id": notify_id,
            "notify_type": notify_type,
            "fields": {k: v for k, v in fields.items() if k != "sign"},
            "outcome": HANDLED if handler else IGNORED,
            "received_at": utcnow(),
        },
    )
    if not fresh:
        db.session.rollback()
        log.info("notification repeated, already applied: %s", summary)
        return "duplicate"
    if handler is None:
        log.warning("no handler for notification type %s; recorded and acknowledged", notify_type)
    else:
        try:
            handler(fields)
        except BaseException:
            db.session.rollback()  # not recorded: the delivery that comes again is applied then
            raise
    db.session.commit()
    log.info("notification %s: %s", HANDLED if handler else IGNORED, summary)
    return HANDLED if handler else IGNORED
