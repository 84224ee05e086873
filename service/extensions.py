"""Bare extension objects, initialised against an app in create_app()."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from service.openapi import MinifinApi

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with constraint names Alembic can diff on every engine."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay readable after a use case commits, so routes can dump them without reloading.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})

# What every model subclasses. Flask-SQLAlchemy builds `db.Model` at run time from Base's body,
# so a type checker cannot follow it; to the checker it is Base, whose `Mapped` columns it reads.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
api = MinifinApi()
limiter = Limiter(key_func=get_remote_address)


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, _record) -> None:
    """SQLite: write-ahead log, foreign keys, a busy wait, and deleted values overwritten.

    The log lets readers never block the writer; `secure_delete` zeroes deleted cells instead of
    leaving them in free pages, because personal data must really be gone when it is erased.
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


@event.listens_for(Engine, "connect")
def _binary_arrays(dbapi_connection, _record) -> None:
    """PostgreSQL: lists are sent to the server in binary.

    A batch binds each column of its rows as one array (`service.sql.array_rows`); psycopg
    writes an array's text form item by item in Python, quoting each one, which took 1.1 ms
    for 500 ids and 2.9 ms for 500 timestamps against 0.12 and 0.13 ms in binary, and was
    about a fifth of a sending worker's time (bench/README.md). The binary form carries each
    item's type, so the server reads the same values.
    """
    adapters = getattr(dbapi_connection, "adapters", None)
    if adapters is None:  # not psycopg
        return
    from psycopg.types.array import ListBinaryDumper

    adapters.register_dumper(list, ListBinaryDumper)
