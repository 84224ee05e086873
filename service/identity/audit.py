"""The record of processing of identity data: every state change, with who, when and from where.

Events name the verification and the outcome, never the data itself, so the trail can be kept
after the identity is erased (PIPL requires both: erase on request, and keep records of
processing). The caller's transaction commits the event together with the change it records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from service.extensions import db
from service.identity.models import IdentityEvent
from service.pagination import DEFAULT_LIMIT, Ordering, Page, paginate

SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who acts (a user id, a merchant client id, or `system` for the worker) and from where."""

    id: str
    origin: str | None = None


WORKER = Actor(SYSTEM)


def record(
    user_id: str, type_: str, actor: Actor, *, verification_id: str | None = None, **detail: Any
) -> None:
    """Add one event to the session; it is committed with the change it describes."""
    db.session.add(
        IdentityEvent(
            user_id=user_id,
            verification_id=verification_id,
            type=type_,
            actor=actor.id,
            origin=actor.origin,
            detail=detail,
        )
    )


EVENT_ORDER = Ordering(IdentityEvent.at, IdentityEvent.id)


def events_of(user_id: str, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page:
    """A page of a user's identity events, newest first (the order every list pages in)."""
    return paginate(
        select(IdentityEvent).where(IdentityEvent.user_id == user_id), EVENT_ORDER,
        list_name="identity_events", limit=limit, cursor=cursor, filters={"user": user_id},
    )  # fmt: skip
