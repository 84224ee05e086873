"""The mock store's tables: each one's DDL, declared before any store opens, and later columns.

Capabilities (certifications, trades, notifications…) declare theirs with `register_table()` at
import time; a store creates every table listed when it opens and `reset()` empties them all.
"""

from __future__ import annotations

import sqlite3

# Table name → DDL. Later capabilities (certifications, trades, notifications) add theirs with
# register_table() at import time, before a store is opened; reset() empties every table listed.
TABLES: dict[str, tuple[str, ...]] = {}
# Columns added after a table first shipped: (table, column, definition), added to older files.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("apps", "raw_score", "INTEGER NOT NULL DEFAULT 0"),
    ("faults", "after_acting", "INTEGER NOT NULL DEFAULT 0"),
    ("faults", "fields", "TEXT"),
    ("trades", "expires_at", "REAL"),
    ("inbox_messages", "ignored", "TEXT"),
    ("apps", "key_mode", "TEXT NOT NULL DEFAULT 'key'"),
    ("apps", "force_cert", "INTEGER NOT NULL DEFAULT 0"),
    ("apps", "aes_key", "TEXT"),
    ("apps", "aes_methods", "TEXT"),
    ("apps", "phone_number", "INTEGER NOT NULL DEFAULT 0"),
)


def register_table(name: str, *statements: str) -> None:
    """Declare a table (`CREATE TABLE IF NOT EXISTS …`, then any indexes) every store creates."""
    TABLES[name] = statements


register_table(
    "apps",
    """CREATE TABLE IF NOT EXISTS apps (
        app_id TEXT PRIMARY KEY, name TEXT NOT NULL, public_key_pem TEXT NOT NULL,
        privileged INTEGER NOT NULL, id_mode TEXT NOT NULL, redirect_uris TEXT NOT NULL,
        created_at REAL NOT NULL, updated_at REAL NOT NULL,
        raw_score INTEGER NOT NULL DEFAULT 0, key_mode TEXT NOT NULL DEFAULT 'key',
        force_cert INTEGER NOT NULL DEFAULT 0, aes_key TEXT, aes_methods TEXT,
        phone_number INTEGER NOT NULL DEFAULT 0)""",
)
register_table(
    "users",
    """CREATE TABLE IF NOT EXISTS users (
        user_id TEXT PRIMARY KEY, profile TEXT NOT NULL, created_at REAL NOT NULL)""",
)
register_table(
    "auth_codes",
    """CREATE TABLE IF NOT EXISTS auth_codes (
        code TEXT PRIMARY KEY, app_id TEXT NOT NULL, user_id TEXT NOT NULL, scopes TEXT NOT NULL,
        created_at REAL NOT NULL, expires_at REAL NOT NULL, used_at REAL)""",
)
register_table(
    "tokens",
    """CREATE TABLE IF NOT EXISTS tokens (
        access_token TEXT PRIMARY KEY, refresh_token TEXT NOT NULL UNIQUE, app_id TEXT NOT NULL,
        user_id TEXT NOT NULL, scopes TEXT NOT NULL, created_at REAL NOT NULL,
        access_expires_at REAL NOT NULL, refresh_expires_at REAL NOT NULL, refreshed_at REAL)""",
)
register_table(
    "faults",
    """CREATE TABLE IF NOT EXISTS faults (
        id INTEGER PRIMARY KEY AUTOINCREMENT, method TEXT NOT NULL, kind TEXT NOT NULL,
        code TEXT, sub_code TEXT, sub_msg TEXT, seconds REAL, times_left INTEGER,
        created_at REAL NOT NULL, after_acting INTEGER NOT NULL DEFAULT 0, fields TEXT)""",
)
register_table(
    "calls",
    """CREATE TABLE IF NOT EXISTS calls (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, http_method TEXT NOT NULL,
        method TEXT NOT NULL, app_id TEXT NOT NULL, code TEXT NOT NULL, sub_code TEXT)""",
)
register_table(
    "settings",
    "CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
register_table(
    "page_nonces",
    """CREATE TABLE IF NOT EXISTS page_nonces (
        nonce TEXT PRIMARY KEY, context TEXT NOT NULL, expires_at REAL NOT NULL)""",
)


def add_missing_columns(db: sqlite3.Connection) -> None:
    """Bring an older mock's store file up to date (CREATE IF NOT EXISTS keeps its tables)."""
    for table, column, definition in ADDED_COLUMNS:
        present = {row["name"] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
