"""Small SQL helpers that differ per engine but mean the same thing."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from service.extensions import db


def insert_ignoring_conflicts(model: type, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; returns whether a row was inserted.

    Starting a use case with this write (instead of select-then-insert) is race-free on
    PostgreSQL and takes SQLite's write lock up front. The answer comes from RETURNING, because
    drivers do not all report a row count for this statement (psycopg 3 says -1).
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    primary_key = list(model.__table__.primary_key.columns)
    statement = insert(model).values(**values).on_conflict_do_nothing().returning(*primary_key)
    return db.session.execute(statement).first() is not None
