"""The database's clock, for times that several workers compare (leases, when a job is due).

Each worker's own clock may be off; the database's is one clock for all of them. PostgreSQL gives
`clock_timestamp()` (the moment of the statement, not of the transaction's start). SQLite's
`strftime('%Y-%m-%d %H:%M:%f', 'now')` has millisecond precision and writes times as text in the
same form SQLAlchemy stores them (`YYYY-MM-DD HH:MM:SS.ffffff`, naive UTC), so the milliseconds
are padded with `999`: "now" is the end of the current millisecond, and a time written from
Python earlier in that millisecond counts as past.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, DateTime, func, literal

from service.extensions import db

_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%f"


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def db_now() -> ColumnElement:
    """The database's current time, as an SQL expression."""
    return db_now_plus(0)


def db_now_plus(seconds: float) -> ColumnElement:
    """The database's current time plus `seconds`, as an SQL expression."""
    if _dialect() == "postgresql":
        now = func.clock_timestamp(type_=DateTime(timezone=True))
        return now + literal(timedelta(seconds=seconds)) if seconds else now
    moment = func.strftime(_SQLITE_FORMAT, "now", f"{float(seconds):+.3f} seconds")
    return moment.op("||")(literal("999"))
