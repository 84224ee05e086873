"""Column types shared by every capability's models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, String
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every engine.

    SQLite has no time zones, so values are stored as naive UTC and given back their zone on the
    way out; naive values on the way in are a programming error.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def ascii_key(length: int) -> TypeEngine[str]:
    """A column of ASCII identifiers (`evt_…`, an event type), compared byte by byte.

    PostgreSQL compares text by the database's locale (`strcoll`) unless told otherwise, even
    `C.UTF-8` and even when every value is ASCII; the `C` collation compares bytes, which orders
    such values the same way and made the events' insert, three text indexes a row, 5–10 %
    faster (bench/README.md). SQLite compares bytes already (its BINARY collation).
    """
    return String(length, collation="C").with_variant(String(length), "sqlite")

