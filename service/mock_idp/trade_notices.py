"""A trade's `trade_status_sync` notification, queued in the transaction of the change it reports.

Every trade move (paid, closed, finished, refunded) calls this inside its own transaction, so no
change is visible without its notification on the way; the control API also uses it to send a
trade's notification again with chosen fields replaced.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from service.mock_idp.notifications import new_notify_id, queue_notification
from service.mock_idp.store import MockStore
from service.mock_idp.trade_wire import trade_status_sync_fields

if TYPE_CHECKING:
    from service.mock_idp.refunds import Refund
    from service.mock_idp.trade_records import Trade


def notify_trade_status(
    store: MockStore,
    db: sqlite3.Connection,
    platform_key: Any,
    trade: Trade,
    now: float,
    refund: Refund | None = None,
    changes: dict[str, str | None] | None = None,
) -> str | None:
    """Queue `trade_status_sync` for a trade created with a notify_url (none without one).

    `changes` (control API only) replaces fields before signing, None dropping one: what a
    platform answer the merchant must refuse looks like, genuinely signed.
    """
    if not trade.notify_url:
        return None
    app, user = store.get_app(trade.app_id), store.get_user(trade.buyer_user_id)
    if app is None or user is None:
        return None
    fields = trade_status_sync_fields(
        app, trade, user, notify_id=new_notify_id(), now=now, refund=refund
    )
    for name, value in (changes or {}).items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return queue_notification(
        store, db, fields=fields, notify_url=trade.notify_url, platform_key=platform_key, now=now
    )
