"""Small SQL helpers that differ per engine but mean the same thing."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Executable, Table, bindparam, func, insert, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeEngine

from service.dbtypes import utcnow
from service.extensions import db

log = logging.getLogger(__name__)
M = TypeVar("M", bound=DeclarativeBase)


def insert_ignoring_conflicts(model: type[DeclarativeBase], values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; returns whether a row was inserted.

    Starting a use case with this write (instead of select-then-insert) is race-free on
    PostgreSQL and takes SQLite's write lock up front. The answer comes from RETURNING, because
    drivers do not all report a row count for this statement (psycopg 3 says -1).
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    primary_key = list(model.__table__.primary_key)
    statement = insert(model).values(**values).on_conflict_do_nothing().returning(*primary_key)
    return db.session.execute(statement).first() is not None


def existing(model: type[M], key: Any) -> M:
    """The row with this primary key, which the caller knows is there.

    For a row the use case wrote and committed itself, or that a job or a row it holds points
    to. `session.get` answers None for a missing row; here that would be a broken invariant, so
    it is raised at once rather than carried on as None.
    """
    row = db.session.get(model, key)
    if row is None:
        raise LookupError(f"{model.__name__} {key!r} is not in the database")
    return row


def rows_changed(statement: Executable) -> int:
    """Run an UPDATE or DELETE in the current transaction; returns how many rows it changed.

    The count is what makes a conditional update safe to repeat (zero: someone else moved the row
    first). The session's `execute` is typed as returning any result; a data-changing statement
    gives a cursor result, which is the one that carries the count.
    """
    return cast(CursorResult[Any], db.session.execute(statement)).rowcount


def seconds_until_earliest(column: Any, *conditions: Any, horizon: float) -> float:
    """Seconds until the earliest `column` among rows meeting `conditions`, capped at `horizon`.

    What an idle worker asks each source of due work before it sleeps; the read transaction is
    ended at once so a sleeping worker holds nothing.
    """
    earliest = db.session.scalar(select(func.min(column)).where(*conditions))
    db.session.rollback()
    if earliest is None:
        return horizon
    return max(0.0, min(horizon, (earliest - utcnow()).total_seconds()))


def flush_erased_values() -> None:
    """After an erasure commits, leave no old copy of the erased values in SQLite's files.

    Deleted cells are zeroed (`secure_delete`, set on every connection), but the write-ahead log
    still holds earlier page images until it is checkpointed and truncated. PostgreSQL's dead
    row versions are reclaimed by (auto)vacuum; nothing to do here.
    """
    if db.session.get_bind().dialect.name != "sqlite":
        return
    with db.engine.connect() as connection:
        busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    if busy:
        log.warning("the write-ahead log could not be truncated after an erasure (busy); "
                    "it will be at the next checkpoint")  # fmt: skip


def array_rows(
    columns: Mapping[str, tuple[str, TypeEngine[Any]]],
    name: str | None = None,
    ordinality: str | None = None,
) -> Any:
    """PostgreSQL: rows read side by side from bound arrays (`unnest`), one column for each
    `column: (parameter, item type)`, numbered from 1 in the column `ordinality` if named.

    A batch bound as one array per column keeps the statement's text the same whatever its
    size, so it is prepared once and planned once (bench/README.md).
    """
    given = func.unnest(*(_bound_array(param, kind) for param, kind in columns.values()))
    rows = (given.table_valued(*columns, with_ordinality=ordinality) if ordinality
            else given.table_valued(*columns))  # fmt: skip
    return rows.render_derived(name=name)


def _bound_array(param: str, kind: TypeEngine[Any]) -> Any:
    """An array parameter typed as such, so each item goes through its type's conversion (JSON,
    aware times), cast so that the database knows the array's type."""
    array = postgresql.ARRAY(kind)
    return sql_cast(bindparam(param, type_=array), array)


def insert_rows(
    table: Table, rows: Sequence[Mapping[str, Any]], *, skip_conflicts: bool = False
) -> None:
    """Insert `rows` (dicts with the same keys), skipping those that conflict with a unique
    key if `skip_conflicts` (ON CONFLICT DO NOTHING).

    On PostgreSQL as one array per column: one statement and one round trip, whose text is the
    same whatever the number of rows, so it is prepared and planned once. An executemany there
    is one statement per row in psycopg's pipeline, each with its parameters converted on its
    own (bench/README.md). Elsewhere an executemany.
    """
    if not rows:
        return
    if db.session.get_bind().dialect.name != "postgresql":
        if skip_conflicts:
            db.session.execute(sqlite.insert(table).on_conflict_do_nothing(), list(rows))
        else:
            db.session.execute(insert(table), list(rows))
        return
    db.session.execute(array_insert(table, tuple(rows[0]), skip_conflicts), row_arrays(rows))


def row_arrays(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The parameters of `array_insert()`: one list `c_<name>` per column of `rows`."""
    return {f"c_{name}": [row[name] for row in rows] for name in rows[0]}


@cache
def array_insert(table: Table, columns: tuple[str, ...], skip_conflicts: bool = False) -> Any:
    """PostgreSQL: INSERT … SELECT FROM unnest(one array per column `c_<name>`), built once per
    table, column list and conflict rule."""
    given = array_rows({name: (f"c_{name}", table.c[name].type) for name in columns})
    statement = postgresql.insert(table).from_select(
        list(columns), select(*(given.c[name] for name in columns))
    )
    return statement.on_conflict_do_nothing() if skip_conflicts else statement
