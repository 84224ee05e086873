"""Cursor pagination, the one way every list endpoint pages: `{"data", "has_more", "next_cursor"}`.

Lists are read by keyset, not offset: ordered by a sort column and a unique tie-breaker (newest
first), a page asks for the rows *after* the last one the previous page ended on. A row inserted
while a client pages sorts before its position (it is newer), so no page skips or repeats a row
that existed when paging began, however many arrive.

A cursor names that last row's sort values and the list it belongs to (the endpoint and its
filters). It is opaque to clients and tamper-evident: the payload carries an HMAC under the
deployment's blind-index key, so a changed, forged or borrowed cursor (another list's, or the
same list's with other filters) is refused with `422 invalid_cursor`, never obeyed.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from service.components import blind_index
from service.errors import Unprocessable
from service.extensions import db

DEFAULT_LIMIT, MAX_LIMIT = 20, 100
_MAC_LENGTH = 22  # hex characters of the HMAC kept in a cursor (88 bits)


@dataclass(frozen=True)
class Page:
    """One page of a list, as every list endpoint answers it."""

    data: list[Any]
    has_more: bool
    next_cursor: str | None


@dataclass(frozen=True)
class Ordering:
    """How a list is ordered: a sort column and a unique tie-breaker, both descending."""

    sort: InstrumentedAttribute
    tiebreak: InstrumentedAttribute


def paginate(
    query: Select,
    ordering: Ordering,
    *,
    list_name: str,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    filters: Mapping[str, Any] | None = None,
) -> Page:
    """Run `query` (a select of one entity) for one page, newest first.

    `list_name` and `filters` bind the cursor to this list: a cursor made for another is refused.
    """
    binding = _binding(list_name, filters)
    query = query.order_by(ordering.sort.desc(), ordering.tiebreak.desc())
    if cursor:
        sort_value, tiebreak_value = _decode(cursor, binding, ordering)
        query = query.where(
            or_(
                ordering.sort < sort_value,
                and_(ordering.sort == sort_value, ordering.tiebreak < tiebreak_value),
            )
        )
    rows = list(db.session.scalars(query.limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more:
        last = rows[-1]
        next_cursor = _encode(
            [getattr(last, ordering.sort.key), getattr(last, ordering.tiebreak.key)], binding
        )
    return Page(data=rows, has_more=has_more, next_cursor=next_cursor)


def _binding(list_name: str, filters: Mapping[str, Any] | None) -> str:
    shown = {key: value for key, value in sorted((filters or {}).items()) if value is not None}
    return json.dumps([list_name, shown], default=str, separators=(",", ":"))


def _mac(payload: str, binding: str) -> str:
    return blind_index().digest("list_cursor", f"{binding}\x00{payload}")[:_MAC_LENGTH]


def _encode(values: Sequence[Any], binding: str) -> str:
    shown = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    payload = base64.urlsafe_b64encode(json.dumps(shown, separators=(",", ":")).encode())
    text = payload.decode().rstrip("=")
    return f"{text}.{_mac(text, binding)}"


def _decode(cursor: str, binding: str, ordering: Ordering) -> tuple[Any, Any]:
    text, _, mac = cursor.partition(".")
    if not text or not hmac.compare_digest(mac.encode(), _mac(text, binding).encode()):
        raise _invalid()
    try:
        values = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return (_value(values[0], ordering.sort), _value(values[1], ordering.tiebreak))
    except (ValueError, TypeError, IndexError, binascii.Error) as error:
        raise _invalid() from error


def _value(shown: Any, column: InstrumentedAttribute) -> Any:
    # A TypeDecorator (UTCDateTime) reports `object`; the type it decorates knows the Python type.
    python_type = getattr(column.type, "impl_instance", column.type).python_type
    if python_type is datetime:
        return datetime.fromisoformat(shown)
    if not isinstance(shown, python_type):
        raise TypeError("cursor value of the wrong type")
    return shown


def _invalid() -> Unprocessable:
    return Unprocessable(
        "The cursor is not one this list gave out; start again without it.",
        code="invalid_cursor",
        errors={"cursor": ["Not a cursor of this list, or changed."]},
    )
