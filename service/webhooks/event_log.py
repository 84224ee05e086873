"""Reading the event log: `GET /v1/events`, and the one view of an event webhooks send.

Newest first by `seq` (the log's order), filtered by a type or a prefix (`gift.*`, checked
against the catalogue so a typo is a 422, not an empty list) and by the object's id, one page at
a time. The view is EventSchema's, so a webhook's `data` and the API show an event alike.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from schemas.webhooks import EventSchema
from service.errors import Unprocessable
from service.events.models import Event
from service.events.types import valid_pattern
from service.pagination import Ordering, Page, paginate

_VIEW = EventSchema()


def event_view(event: Any) -> dict[str, Any]:
    """The event as `GET /v1/events` shows it (an `Event` or a row with its columns)."""
    return _VIEW.dump(event)


def list_events(limit: int, cursor: str | None, type: str | None = None,
                object_id: str | None = None) -> Page:  # fmt: skip
    """One page of the log, newest first."""
    query = select(Event)
    if type is not None:
        if not valid_pattern(type):
            raise Unprocessable(
                "No event type matches this filter.", code="unknown_event_type",
                errors={"type": [f"No event type matches {type}."]},
            )  # fmt: skip
        if type == "*":
            pass
        elif type.endswith(".*"):
            query = query.where(Event.type.startswith(type[:-1], autoescape=True))
        else:
            query = query.where(Event.type == type)
    if object_id is not None:
        query = query.where(Event.object_id == object_id)
    return paginate(
        query, Ordering(Event.seq, Event.seq), list_name="events", limit=limit, cursor=cursor,
        filters={"type": type, "object_id": object_id},
    )  # fmt: skip
