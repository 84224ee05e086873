"""Rows written together with their events: an insert or an update whose snapshots come from
the rows as the statement writes them.

`record_views()` (views.py) looks its objects up by id, which suits a change made earlier in
the transaction. Rows that a statement is writing right now need no lookup: on PostgreSQL the
statement becomes a data-modifying CTE, `WITH written AS (INSERT … RETURNING)` or `WITH changed
AS (UPDATE … RETURNING)`, and the events are inserted from its rows in the same statement.
Looking up rows just written is what the planner gets wrong (the statistics of a table that is
filling up, like the vouchers of a sending burst, are a smaller table's: it read and hashed the
whole table for every batch), and each lookup is a statement and a round trip more
(bench/README.md, the events overhead). SQLite has no data-modifying CTEs: there the rows are
written first and `record_views()` follows. The caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Text, bindparam, insert
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.util import ClauseAdapter

from service.dbtypes import utcnow
from service.events.log import check_type
from service.events.views import EVENT_COLUMNS, EVENTS, View, record_counted, record_views
from service.extensions import db
from service.ids import new_id
from service.sql import array_insert, array_rows, insert_rows, row_arrays


def insert_recorded(view: View, event_type: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Insert `rows` (dicts with the same keys) into the view's table and record `event_type`
    for each, its snapshot built from the row as written; returns the event ids.

    On PostgreSQL one statement: `array_insert()`'s INSERT … RETURNING is the CTE the events
    are built from. Elsewhere `insert_rows()`, then `record_views()`.
    """
    if not rows:
        return []
    if db.session.get_bind().dialect.name != "postgresql":
        insert_rows(view.table, rows)
        return record_views(view, [(event_type, row["id"]) for row in rows])
    check_type(event_type)
    event_ids = [new_id("evt") for _ in rows]
    params = {**row_arrays(rows), "now": utcnow(), "event_type": event_type,
              "event_ids": event_ids}  # fmt: skip
    record_counted(view, _insert_recorded(view, tuple(rows[0])), params, len(rows))
    return event_ids


def update_recorded(
    view: View, event_type: str, update: Update, entries: Any, params: Mapping[str, Any]
) -> list[str]:
    """Run `update` and record `event_type` for each row it changes, its snapshot built from
    the row as changed, at `params["now"]`; returns the ids of the rows it changed.

    PostgreSQL only, one statement: `update` is an UPDATE … FROM `entries` (a table-valued
    unnest of arrays bound in `params`) whose columns include each row's `event_id` and its
    ordinal `n`. A row the update's guard skips gets no event. On SQLite a caller runs its
    update, then `record_views()`.
    """
    check_type(event_type)
    db.session.flush()
    statement = _update_recorded(view, update, entries)
    return list(db.session.scalars(statement, {**params, "event_type": event_type}))


@cache
def _insert_recorded(view: View, columns: tuple[str, ...]) -> Any:
    """`WITH written AS (INSERT … RETURNING) INSERT INTO events …`, built once per view and
    column list; the events follow the rows' order."""
    written = array_insert(view.table, columns).returning(*view.columns()).cte("written")
    entries = array_rows({"object_id": ("c_id", Text()), "event_id": ("event_ids", Text())},
                         "entries", "n")  # fmt: skip
    rows = view.events(entries.c.event_id, bindparam("event_type", type_=Text()), written.c.id,
                       ClauseAdapter(written).traverse(view.json()))  # fmt: skip
    return (
        insert(EVENTS)
        .from_select(EVENT_COLUMNS, rows.select_from(
            entries.join(written, written.c.id == entries.c.object_id)).order_by(entries.c.n))
        .add_cte(written)
        .execution_options(preserve_rowcount=True)
    )  # fmt: skip


@cache
def _update_recorded(view: View, update: Update, entries: Any) -> Any:
    """`WITH changed AS (UPDATE … RETURNING) INSERT INTO events … RETURNING object_id`, built
    once per view and update; the events follow the entries' order."""
    changed = update.returning(*view.columns(), entries.c.event_id, entries.c.n).cte("changed")
    rows = view.events(changed.c.event_id, bindparam("event_type", type_=Text()), changed.c.id,
                       ClauseAdapter(changed).traverse(view.json()))  # fmt: skip
    return (
        insert(EVENTS)
        .from_select(EVENT_COLUMNS, rows.order_by(changed.c.n))
        .add_cte(changed)
        .returning(EVENTS.c.object_id)
    )
