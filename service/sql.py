"""Small SQL helpers that differ per engine but mean the same thing."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from service.extensions import db


def insert_ignoring_conflicts(model: type, values: dict[str, Any]) -> int:
    """INSERT … ON CONFLICT DO NOTHING; returns the number of rows inserted (0 or 1).

    Starting a use case with this write (instead of select-then-insert) is race-free on
    PostgreSQL and takes SQLite's write lock up front.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = db.session.execute(insert(model).values(**values).on_conflict_do_nothing())
    return result.rowcount
