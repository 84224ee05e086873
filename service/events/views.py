"""Events whose snapshots the database builds: one INSERT … SELECT for a whole batch of objects.

A sending batch records an event for each gift and each voucher it writes. Built in Python,
each snapshot meant reading the rows back, a dict per row, the personal-data check on every
key, JSON encoding and binding: more than the batch's own statements (bench/README.md). Here
a `View` says which column each key a merchant sees comes from; `record_views()` sends only
the event ids, types and object ids, and the database builds every snapshot from the rows as
this transaction has left them (`json_build_object` on PostgreSQL, `json_object` on SQLite).

A view's keys are checked against log.py's `FORBIDDEN_KEYS` once, when it is declared, so the
one door for personal data stays shut. Times are spelled as `datetime.isoformat()` spells an
aware UTC time, so a snapshot is exactly what the merchant schema would dump (the tests compare
the two on both engines). The caller commits, with its change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Table,
    Text,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    true,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import Select
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlalchemy.types import JSON, String

from service.dbtypes import UTCDateTime, utcnow
from service.events.log import check_type, refuse_personal_data
from service.events.models import Event
from service.extensions import db
from service.ids import new_id
from service.sql import array_rows

# Each key a merchant sees: a mapped column (`Gift.id`) or, for a nested object, a `Fields`.
Fields = Mapping[str, Any]
_KEY = re.compile(r"^[a-z_][a-z0-9_]*$")
EVENTS = cast(Table, Event.__table__)
EVENT_COLUMNS = ["id", "type", "created_at", "object_type", "object_id", "data", "fanout_pending"]


class JsonObject(FunctionElement[Any]):
    """`JsonObject(key, value, …)`: a JSON object built by the database, nested ones included."""

    type = JSON()
    name = "json_object"
    inherit_cache = True


@compiles(JsonObject, "postgresql")
def _json_object_postgresql(element: JsonObject, compiler: Any, **kw: Any) -> str:
    return f"json_build_object({compiler.process(element.clauses, **kw)})"


@compiles(JsonObject)
def _json_object(element: JsonObject, compiler: Any, **kw: Any) -> str:
    return f"json_object({compiler.process(element.clauses, **kw)})"


class IsoTime(FunctionElement[str]):
    """A UTC timestamp column spelled as `datetime.isoformat()` spells it (NULL stays NULL):
    `2026-12-02T15:18:02.123456+00:00`, and without the fraction when it is zero."""

    type = String()
    name = "iso_time"
    inherit_cache = True


@compiles(IsoTime, "postgresql")
def _iso_time_postgresql(element: IsoTime, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    spelled = f"""to_char(({column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')"""
    return f"(replace({spelled}, '.000000', '') || '+00:00')"


@compiles(IsoTime)
def _iso_time(element: IsoTime, compiler: Any, **kw: Any) -> str:
    # SQLite holds UTC times as text, `YYYY-MM-DD HH:MM:SS.ffffff` (see service/dbtypes.py).
    column = compiler.process(element.clauses, **kw)
    return f"(replace(replace({column}, ' ', 'T'), '.000000', '') || '+00:00')"


@dataclass(frozen=True, eq=False)
class View:
    """What a merchant sees of one kind of object, key by key: a column or a nested object."""

    object_type: str
    table: Table
    fields: Fields

    def __post_init__(self) -> None:
        if not _KEY.match(self.object_type):  # it is written into the statement as a literal
            raise ValueError(f"{self.object_type!r} is not an object type")
        _check_keys(self.fields, self.object_type)

    def columns(self) -> list[Any]:
        """The table's columns the view reads, the id first, each once."""
        read = [self.table.c.id, *_columns(self.fields)]
        return list({column.key: column for column in read}.values())

    def json(self, extra: Sequence[tuple[str, str]] = ()) -> ColumnElement[Any]:
        """The snapshot as a SQL expression; each extra `(key, "int" | "str")` is bound as the
        parameter `x_<key>`, cast so that the database knows its type."""
        return _json(self.fields, extra)

    def events(self, event_id: Any, event_type: Any, object_id: Any, data: Any) -> Select[Any]:
        """The SELECT of `EVENT_COLUMNS` for events about this kind of object, created at the
        bound parameter `now`; the caller adds its FROM and its order."""
        return select(
            event_id, event_type, bindparam("now", type_=UTCDateTime()),
            literal_column(f"'{self.object_type}'"), object_id, data, true(),
        )  # fmt: skip


def record_views(
    view: View, entries: Sequence[tuple[str, str]], extra: Mapping[str, int | str] | None = None
) -> list[str]:
    """Record one event per `(event type, object id)`, in that order, with the database building
    each snapshot from the object's row (plus `extra`'s keys); returns the event ids.

    One statement whatever the number of entries. Every object must exist: an entry that finds
    no row is a programming error, and raises rather than leaving a change without its event.
    """
    if not entries:
        return []
    extra = dict(extra or {})
    for event_type in {entry[0] for entry in entries}:
        check_type(event_type)
    _check_keys(extra, view.object_type)
    event_ids = [new_id("evt") for _ in entries]
    dialect = db.session.get_bind().dialect.name
    params: dict[str, Any] = {"now": utcnow(), **{f"x_{key}": v for key, v in extra.items()}}
    if dialect == "postgresql":
        params.update(types=[entry[0] for entry in entries],
                      object_ids=[entry[1] for entry in entries], event_ids=event_ids)  # fmt: skip
    else:
        triples = zip(entries, event_ids, strict=True)
        params["pairs"] = json.dumps([[*entry, event_id] for entry, event_id in triples])
    kinds = tuple((key, "int" if isinstance(extra[key], int) else "str") for key in sorted(extra))
    record_counted(view, _statement(view, dialect, kinds), params, len(entries))
    return event_ids


def record_counted(view: View, statement: Any, params: Mapping[str, Any], expected: int) -> None:
    """Run an INSERT INTO events of `expected` events about the view's objects (after a flush:
    a Core statement does not autoflush, and the rows must be as last changed). Fewer means an
    entry found no row, a programming error: it raises rather than leave a change without its
    event, and the caller's transaction is rolled back."""
    db.session.flush()
    written = cast(CursorResult[Any], db.session.execute(statement, params)).rowcount
    if written != expected:
        raise LookupError(f"{expected - written} {view.object_type} event(s) found no row")


@cache
def _statement(view: View, dialect: str, extra: tuple[tuple[str, str], ...]) -> Any:
    """The INSERT … SELECT of a view (with `extra`'s keys and kinds), built once per engine.

    A plain join to the table: the planner looks the rows up by key or hashes the table, as the
    sizes say. Forcing key lookups (a LATERAL … LIMIT 1, with custom plans so that a plan made
    while a new install's tables were empty is not kept) drained the gift burst more slowly
    (bench/README.md, the events overhead).
    """
    entries = _entries(dialect)
    table = view.table
    rows = view.events(entries.c.event_id, entries.c.event_type, table.c.id, view.json(extra))
    return insert(EVENTS).from_select(
        EVENT_COLUMNS,
        rows.select_from(entries.join(table, table.c.id == entries.c.object_id))
        .order_by(entries.c.n),
    ).execution_options(preserve_rowcount=True)  # an INSERT's count is kept only when asked


def _entries(dialect: str) -> Any:
    """The entries as rows (`event_type`, `object_id`, `event_id`, `n`), from three arrays on
    PostgreSQL and from one JSON array of triples on SQLite."""
    if dialect == "postgresql":
        return array_rows({"event_type": ("types", Text()), "object_id": ("object_ids", Text()),
                           "event_id": ("event_ids", Text())}, "entries", "n")  # fmt: skip
    each = func.json_each(bindparam("pairs", type_=Text())).table_valued("key", "value")
    return select(
        func.json_extract(each.c.value, "$[0]").label("event_type"),
        func.json_extract(each.c.value, "$[1]").label("object_id"),
        func.json_extract(each.c.value, "$[2]").label("event_id"),
        each.c.key.label("n"),
    ).subquery("entries")


def _json(fields: Fields, extra: Sequence[tuple[str, str]]) -> ColumnElement[Any]:
    arguments: list[Any] = []
    for key, value in fields.items():
        arguments.append(literal_column(f"'{key}'"))
        if isinstance(value, Mapping):
            arguments.append(_json(value, ()))
        elif isinstance(value.type, UTCDateTime):
            arguments.append(IsoTime(value))
        else:
            arguments.append(value)
    for key, kind in extra:
        sql_type = BigInteger() if kind == "int" else Text()
        arguments += [literal_column(f"'{key}'"), sql_cast(bindparam(f"x_{key}"), sql_type)]
    return JsonObject(*arguments)


def _columns(fields: Fields) -> list[Any]:
    found: list[Any] = []
    for value in fields.values():
        found.extend(_columns(value) if isinstance(value, Mapping) else [value])
    return found


def _check_keys(fields: Mapping[str, Any], object_type: str) -> None:
    """No personal-data key at any depth, and every key a plain identifier (it is written into
    the statement as a literal)."""
    refuse_personal_data(fields, f"the {object_type} view")
    for key, value in fields.items():
        if not _KEY.match(key):
            raise ValueError(f"{key!r} is not a snapshot key (lower case, digits, underscores)")
        if isinstance(value, Mapping):
            _check_keys(value, object_type)
