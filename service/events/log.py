"""Recording events in the transaction of the change they describe.

A use case calls `record()` (or `record_many()` for a batch) beside its own writes, before it
commits: the event and the change commit together or not at all, so there is never an event
without its change nor a change without its event. The row is a Core insert, so a batch of a
thousand gifts costs one statement, not a thousand ORM objects. The snapshot (`data`) is what
the API shows a merchant client of the object; the keys that would carry personal data are
refused here, at the one door every event goes through.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert

from service.dbtypes import utcnow
from service.events.models import Event
from service.events.types import EVENT_TYPES
from service.extensions import db
from service.ids import new_id

# Field names that would put personal data or a bearer secret in an event, at any depth.
FORBIDDEN_KEYS = frozenset({
    "id_number", "id_number_masked", "real_name", "name_masked", "cert_no", "cert_name",
    "phone", "phone_masked", "mobile", "code", "code_masked", "claim_token", "claim_url",
    "message", "platform_token", "auth_token",
})  # fmt: skip


class PersonalDataInEvent(ValueError):
    """A snapshot carried a field that must never leave in an event (a programming error)."""


@dataclass(frozen=True)
class NewEvent:
    """An event to record: its type, the object's kind and id, and the object's snapshot."""

    type: str
    object_type: str
    object_id: str
    data: Mapping[str, Any] = field(default_factory=dict)


def record(event_type: str, object_type: str, object_id: str, data: Mapping[str, Any]) -> str:
    """Add one event to the session's transaction and return its id; the caller commits."""
    return record_many([NewEvent(event_type, object_type, object_id, data)])[0]


def record_many(events: Iterable[NewEvent]) -> list[str]:
    """Add events in one multi-row insert and return their ids in order; the caller commits."""
    now = utcnow()
    rows = [_row(event, now) for event in events]
    if rows:
        db.session.execute(insert(Event), rows)
    return [row["id"] for row in rows]


def _row(event: NewEvent, now) -> dict[str, Any]:
    check_type(event.type)
    refuse_personal_data(event.data, event.type)
    return {
        "id": new_id("evt"), "type": event.type, "created_at": now,
        "object_type": event.object_type, "object_id": event.object_id,
        "data": dict(event.data), "fanout_pending": True,
    }  # fmt: skip


def check_type(event_type: str) -> None:
    """Refuse a type the catalogue does not list (a programming error)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}: add it to service/events/types.py")


def refuse_personal_data(value: Any, what: str) -> None:
    """Refuse a mapping that has, at any depth, a key of `FORBIDDEN_KEYS`; `what` names it."""
    if isinstance(value, Mapping):
        leaked = FORBIDDEN_KEYS.intersection(value)
        if leaked:
            raise PersonalDataInEvent(f"{what} carries {sorted(leaked)}")
        for inner in value.values():
            refuse_personal_data(inner, what)
    elif isinstance(value, list | tuple):
        for inner in value:
            refuse_personal_data(inner, what)
