"""The mock's own SQLite store (apps, users, grants, faults, calls), shared by server threads."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from service.mock_idp.apps import AppRecord, app_from_row
from service.mock_idp.store_tables import TABLES, add_missing_columns

STORE_FILENAME = "mock-idp.sqlite3"
SETTINGS_TOPIC = "settings"  # announced after every settings change
DEFAULT_SETTINGS: dict[str, Any] = {
    "auth_code_ttl": 300,
    "access_token_ttl": 1_296_000,
    "refresh_token_ttl": 2_592_000,
    "timestamp_skew_seconds": None,
    "calls_kept": 500,
    # Notification retries wait the platform's delays times this: 1/1440 makes its day a minute.
    "notification_time_scale": 1 / 1440,
    # How long a certify_id may be used on the face-scan page: 23 hours, as on the platform.
    "certify_ttl": 82_800,
}


class MockStore:
    """One SQLite connection behind a lock: the mock is small and a lock keeps writes atomic."""

    def __init__(self, path: str | Path, *, demo_users: Sequence[dict[str, Any]] = ()):
        self.path = Path(path)
        self.demo_users = [dict(user) for user in demo_users]
        self._lock = threading.RLock()
        self._listeners: dict[str, list[Callable[[], None]]] = {}
        self._close_hooks: list[Callable[[], None]] = []
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # With the write-ahead log, NORMAL survives a crash of the mock (only a power cut may lose
        # the latest calls); FULL waited for the disk on every commit, a few per gateway call,
        # which made a login against the mock mostly fsync.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        with self.transaction() as db:
            for statements in TABLES.values():
                for statement in statements:
                    db.execute(statement)
            add_missing_columns(db)
        self.seed_demo_users()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run statements as one atomic unit; nothing else touches the database meanwhile."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[sqlite3.Row]:
        """All rows of one read."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """The first row of one read, or None."""
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement on its own; returns the number of rows it changed."""
        with self.transaction() as db:
            return db.execute(sql, params).rowcount

    def close(self) -> None:
        """Stop what runs on the store (delivery threads), then close the connection."""
        for hook in self._close_hooks:
            hook()
        with self._lock:
            self._db.close()

    def on_close(self, hook: Callable[[], None]) -> None:
        """Run `hook` when the store closes, before the connection goes."""
        self._close_hooks.append(hook)

    def listen(self, topic: str, callback: Callable[[], None]) -> None:
        """Have `callback` called whenever a writer announces `topic` (an in-process NOTIFY)."""
        self._listeners.setdefault(topic, []).append(callback)

    def announce(self, topic: str) -> None:
        """Wake the listeners of `topic`; their reads wait for any open transaction to commit."""
        for callback in self._listeners.get(topic, ()):
            callback()

    # Apps

    def save_app(self, app: AppRecord) -> bool:
        """Register or replace an app; True when it is new."""
        now = time.time()
        with self.transaction() as db:
            existed = db.execute("SELECT 1 FROM apps WHERE app_id = ?", (app.app_id,)).fetchone()
            db.execute(
                """INSERT INTO apps (app_id, name, public_key_pem, privileged, id_mode,
                redirect_uris, created_at, updated_at, raw_score, key_mode, force_cert, aes_key,
                aes_methods, phone_number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (app_id) DO UPDATE SET name = excluded.name,
                public_key_pem = excluded.public_key_pem, privileged = excluded.privileged,
                id_mode = excluded.id_mode, redirect_uris = excluded.redirect_uris,
                updated_at = excluded.updated_at, raw_score = excluded.raw_score,
                key_mode = excluded.key_mode, force_cert = excluded.force_cert,
                aes_key = excluded.aes_key, aes_methods = excluded.aes_methods,
                phone_number = excluded.phone_number""",
                (
                    app.app_id, app.name, app.public_key_pem, int(app.privileged), app.id_mode,
                    json.dumps(list(app.redirect_uris)), now, now, int(app.raw_score),
                    app.key_mode, int(app.force_cert), app.aes_key,
                    json.dumps(list(app.aes_methods)), int(app.phone_number),
                ),
            )  # fmt: skip
        return existed is None

    def get_app(self, app_id: str | None) -> AppRecord | None:
        """The registered app, or None."""
        if not app_id:
            return None
        row = self.query_one("SELECT * FROM apps WHERE app_id = ?", (app_id,))
        return app_from_row(row) if row else None

    def list_apps(self) -> list[AppRecord]:
        """Every registered app, oldest first."""
        return [app_from_row(row) for row in self.query("SELECT * FROM apps ORDER BY created_at")]

    # Users

    def add_user(self, profile: dict[str, Any]) -> bool:
        """Store a validated profile; False when the user_id is taken."""
        changed = self.execute(
            "INSERT OR IGNORE INTO users VALUES (?, ?, ?)",
            (profile["user_id"], json.dumps(profile, ensure_ascii=False), time.time()),
        )
        return changed == 1

    def get_user(self, user_id: str | None) -> dict[str, Any] | None:
        """A user's profile, or None."""
        row = self.query_one("SELECT profile FROM users WHERE user_id = ?", (user_id or "",))
        return json.loads(row["profile"]) if row else None

    def list_users(self) -> list[dict[str, Any]]:
        """Every user's profile, in the order they were added."""
        rows = self.query("SELECT profile FROM users ORDER BY created_at, rowid")
        return [json.loads(row["profile"]) for row in rows]

    def update_user(
        self, user_id: str, change: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any] | None:
        """Replace a profile by `change(profile)` atomically; None when there is no such user."""
        with self.transaction() as db:
            row = db.execute("SELECT profile FROM users WHERE user_id = ?", (user_id,)).fetchone()
            if row is None:
                return None
            profile = change(json.loads(row["profile"]))
            db.execute(
                "UPDATE users SET profile = ? WHERE user_id = ?",
                (json.dumps(profile, ensure_ascii=False), user_id),
            )
        return profile

    def seed_demo_users(self) -> None:
        """Add the demo users that are missing (existing profiles are left as they are)."""
        now = time.time()
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO users VALUES (?, ?, ?)",
                [
                    (user["user_id"], json.dumps(user, ensure_ascii=False), now)
                    for user in self.demo_users
                ],
            )

    # Settings

    def settings(self) -> dict[str, Any]:
        """The run-time settings (lifetimes, timestamp check), defaults filled in."""
        stored = {
            row["name"]: json.loads(row["value"]) for row in self.query("SELECT * FROM settings")
        }
        return {**DEFAULT_SETTINGS, **stored}

    def update_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Store changed settings and return the whole set."""
        with self.transaction() as db:
            for name, value in changes.items():
                db.execute(
                    "INSERT OR REPLACE INTO settings VALUES (?, ?)", (name, json.dumps(value))
                )
        self.announce(SETTINGS_TOPIC)
        return self.settings()

    # Call log

    def record_call(self, http_method: str, method: str, app_id: str, code: str, sub_code: str):
        """Log one gateway call, keeping only the most recent ones."""
        kept = int(self.settings()["calls_kept"])
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO calls (at, http_method, method, app_id, code, sub_code)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (time.time(), http_method, method, app_id, code, sub_code or None),
            )
            newest = cast(int, cursor.lastrowid)  # always set after an INSERT
            db.execute("DELETE FROM calls WHERE id <= ?", (newest - kept,))

    def list_calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """The logged calls, oldest first, optionally of one method."""
        sql, params = "SELECT * FROM calls", tuple[str, ...]()
        if method:
            sql, params = sql + " WHERE method = ?", (method,)
        rows = self.query(sql + " ORDER BY id", params)
        return [{**row, "at": datetime.fromtimestamp(row["at"], UTC).isoformat()} for row in rows]

    def reset(self) -> None:
        """Empty every table and seed the demo users again."""
        with self.transaction() as db:
            for name in TABLES:
                db.execute(f"DELETE FROM {name}")  # noqa: S608 - names come from register_table
        self.seed_demo_users()
