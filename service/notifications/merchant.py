"""Whether a notification is addressed to this merchant: its app, and its seller account.

The platform's guidance is to check `app_id`, `seller_id`, `out_trade_no` and the amount of
every notification and to ignore one that fails any of them: a valid signature only proves the
platform sent it, not that it is about one of our trades (a trade of another merchant app may
carry our gift's id as its `out_trade_no`).

The seller account is `MINIFIN_SELLER_ID` (required in production). Where it is unset (dev, test),
it is learned once, from the first `trade_status_sync` that proves it is about a trade Minifin
itself opened (its `trade_no` is the one `alipay.trade.create` answered for that gift, and its
app, buyer and amount match), and kept in the `platform_facts` table so that every process
checks against the same value; the first value recorded stays. Until one is learned, a
notification whose trade Minifin cannot recognise as its own is refused; the settle job's
`alipay.trade.query` still finds such a payment.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import select

from service.components import settings
from service.dbtypes import utcnow
from service.extensions import db
from service.notifications.models import PlatformFact
from service.sql import insert_ignoring_conflicts

log = logging.getLogger(__name__)
SELLER_ID = "seller_id"


def addressed_to_our_app(fields: Mapping[str, str]) -> bool:
    """`app_id`, or for a service provider's app `auth_app_id`, is Minifin's app."""
    ours = settings().app_id
    return ours in (fields.get("app_id"), fields.get("auth_app_id"))


def known_seller_id() -> str | None:
    """The merchant's seller account: configured, else learned, else None (not yet known)."""
    if settings().seller_id:
        return settings().seller_id
    return db.session.scalar(select(PlatformFact.value).where(PlatformFact.name == SELLER_ID))


def seller_refusal(fields: Mapping[str, str]) -> str | None:
    """Why a notification that names a seller is not for this merchant, or None if it may be."""
    if SELLER_ID not in fields:
        return None
    known = known_seller_id()
    if known is not None and fields[SELLER_ID] != known:
        return "seller_mismatch"
    return None


def learn_seller_id(fields: Mapping[str, str], source: str) -> None:
    """Record the seller of a notification proven to be about our own trade, if none is known.

    The caller has already checked that the trade is one Minifin opened; the caller commits.
    """
    value = fields.get(SELLER_ID)
    if not value or known_seller_id() is not None:
        return
    if insert_ignoring_conflicts(
        PlatformFact, {"name": SELLER_ID, "value": value, "source": source, "learned_at": utcnow()}
    ):
        log.info("learned the merchant's seller_id from %s", source)
