"""Asynchronous notifications: queued with the change they report, retried on a schedule.

A notification is stored signed, exactly as it will be posted, in the transaction that made the
change it reports; the delivery thread (courier.py) posts it until the merchant answers `success`.
Every attempt, scheduled or manual, is kept. Retries follow the platform's delays (4 m, 10 m,
10 m, 1 h, 2 h, 6 h, 15 h: eight attempts in about 25 hours) multiplied by the run-time setting
`notification_time_scale`, read at each decision so a change applies to pending ones too.
Manual redeliveries are extra attempts: they never move the schedule, and success ends it.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.gateway.signing import sign_notification
from service.mock_idp.app_certificates import platform_signer
from service.mock_idp.store import MockStore
from service.mock_idp.store_tables import register_table

RETRY_DELAYS_SECONDS = (240, 600, 600, 3600, 7200, 21600, 54000)
MAX_SCHEDULED_ATTEMPTS = len(RETRY_DELAYS_SECONDS) + 1
ANSWER_KEPT_CHARS = 200
DELIVERED_ANSWER = b"success"
TOPIC = "notifications"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
FUND_AUTH_PREFIX = "fund_auth_"  # fund_auth_freeze, fund_auth_unfreeze: about an auth_no

register_table(
    "notifications",
    """CREATE TABLE IF NOT EXISTS notifications (
        notify_id TEXT PRIMARY KEY, app_id TEXT NOT NULL, notify_type TEXT NOT NULL,
        trade_no TEXT NOT NULL, notify_url TEXT NOT NULL, form TEXT NOT NULL,
        state TEXT NOT NULL, scheduled_attempts INTEGER NOT NULL, last_scheduled_at REAL,
        created_at REAL NOT NULL, delivered_at REAL)""",
    "CREATE INDEX IF NOT EXISTS notifications_by_state ON notifications (state)",
    "CREATE INDEX IF NOT EXISTS notifications_by_trade ON notifications (trade_no)",
)
register_table(
    "notification_attempts",
    """CREATE TABLE IF NOT EXISTS notification_attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, notify_id TEXT NOT NULL, at REAL NOT NULL,
        manual INTEGER NOT NULL, http_status INTEGER, answer TEXT, error TEXT,
        delivered INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS attempts_by_notification ON notification_attempts (notify_id)",
)


@dataclass(frozen=True)
class AttemptOutcome:
    """What one POST to a notify_url came to: the HTTP status and answer, or the error."""

    delivered: bool
    http_status: int | None = None
    answer: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class PendingDelivery:
    """A notification still to be delivered and when its next scheduled attempt is due."""

    notify_id: str
    notify_url: str
    form: dict[str, str]
    due_at: float


def new_notify_id() -> str:
    """Unique and opaque, as merchants de-duplicate on it."""
    return secrets.token_hex(17)


def queue_notification(
    store: MockStore,
    db: sqlite3.Connection,
    *,
    fields: dict[str, str],
    notify_url: str,
    platform_key: Any,
    now: float,
    subject_id: str | None = None,
) -> str:
    """Sign and store a notification inside the caller's transaction, then wake the courier.

    `subject_id` is what the control API filters on: the trade_no (the default) or an auth_no.
    An app in certificate mode is notified under its current platform certificate's key.
    """
    signer = platform_signer(db, fields.get("app_id", ""))
    form = sign_notification(fields, signer[0] if signer else platform_key)
    db.execute(
        "INSERT INTO notifications (notify_id, app_id, notify_type, trade_no, notify_url, form,"
        " state, scheduled_attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
        (
            form["notify_id"], form["app_id"], form["notify_type"],
            subject_id or form.get("trade_no", ""),
            notify_url, json.dumps(form, ensure_ascii=False), PENDING, now,
        ),
    )  # fmt: skip
    store.announce(TOPIC)  # the courier's reads wait for this transaction to commit
    return form["notify_id"]


def _due_at(row: sqlite3.Row, scale: float) -> float:
    done = row["scheduled_attempts"]
    if done == 0:
        return row["created_at"]
    return row["last_scheduled_at"] + RETRY_DELAYS_SECONDS[done - 1] * scale


def pending_deliveries(store: MockStore) -> list[PendingDelivery]:
    """Every pending notification with its next due time, soonest first."""
    scale = float(store.settings()["notification_time_scale"])
    rows = store.query("SELECT * FROM notifications WHERE state = ?", (PENDING,))
    pending = [
        PendingDelivery(
            row["notify_id"], row["notify_url"], json.loads(row["form"]), _due_at(row, scale)
        )
        for row in rows
    ]
    return sorted(pending, key=lambda delivery: delivery.due_at)


def delivery_target(store: MockStore, notify_id: str) -> tuple[str, dict[str, str]] | None:
    """Where a notification goes and the form it sends, or None if there is no such one."""
    row = store.query_one(
        "SELECT notify_url, form FROM notifications WHERE notify_id = ?", (notify_id,)
    )
    return (row["notify_url"], json.loads(row["form"])) if row else None


def record_attempt(
    store: MockStore, notify_id: str, outcome: AttemptOutcome, *, manual: bool, now: float
) -> bool:
    """Keep an attempt and move the state on; False when the notification is gone (a reset)."""
    with store.transaction() as db:
        row = db.execute("SELECT * FROM notifications WHERE notify_id = ?", (notify_id,)).fetchone()
        if row is None:
            return False
        db.execute(
            "INSERT INTO notification_attempts (notify_id, at, manual, http_status, answer, error,"
            " delivered) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                notify_id, now, int(manual), outcome.http_status,
                None if outcome.answer is None else outcome.answer[:ANSWER_KEPT_CHARS],
                outcome.error, int(outcome.delivered),
            ),
        )  # fmt: skip
        scheduled = row["scheduled_attempts"] + (0 if manual else 1)
        state = row["state"]
        if outcome.delivered:
            state = DELIVERED
        elif state == PENDING and scheduled >= MAX_SCHEDULED_ATTEMPTS:
            state = FAILED
        db.execute(
            "UPDATE notifications SET state = ?, scheduled_attempts = ?, last_scheduled_at = ?,"
            " delivered_at = COALESCE(delivered_at, ?) WHERE notify_id = ?",
            (
                state, scheduled, row["last_scheduled_at"] if manual else now,
                now if outcome.delivered else None, notify_id,
            ),
        )  # fmt: skip
    return True


def has_pending(store: MockStore) -> bool:
    """Whether any notification still waits for delivery (a restarted mock resumes them)."""
    return store.query_one("SELECT 1 FROM notifications WHERE state = ?", (PENDING,)) is not None


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


def list_notifications(
    store: MockStore,
    *,
    trade_no: str | None = None,
    state: str | None = None,
    auth_no: str | None = None,
) -> list[dict[str, Any]]:
    """Notifications as the control API shows them, oldest first, optionally filtered."""
    sql, params = "SELECT * FROM notifications WHERE 1 = 1", list[str]()
    for subject in (trade_no, auth_no):  # both are kept in the subject column `trade_no`
        if subject:
            sql, params = sql + " AND trade_no = ?", [*params, subject]
    if state:
        sql, params = sql + " AND state = ?", [*params, state]
    with store.transaction() as db:  # one snapshot: the courier may record an attempt meanwhile
        rows = db.execute(sql + " ORDER BY created_at, rowid", params).fetchall()
        attempts: dict[str, list[dict[str, Any]]] = {row["notify_id"]: [] for row in rows}
        for attempt in db.execute("SELECT * FROM notification_attempts ORDER BY id"):
            if attempt["notify_id"] in attempts:
                attempts[attempt["notify_id"]].append(_attempt_json(attempt))
        scale = float(store.settings()["notification_time_scale"])
    return [_notification_json(row, attempts[row["notify_id"]], scale) for row in rows]


def show_notification(store: MockStore, notify_id: str) -> dict[str, Any] | None:
    """One notification as the control API shows it, or None."""
    with store.transaction() as db:
        row = db.execute("SELECT * FROM notifications WHERE notify_id = ?", (notify_id,)).fetchone()
        if row is None:
            return None
        attempts = db.execute(
            "SELECT * FROM notification_attempts WHERE notify_id = ? ORDER BY id", (notify_id,)
        ).fetchall()
        scale = float(store.settings()["notification_time_scale"])
    return _notification_json(row, [_attempt_json(a) for a in attempts], scale)


def _attempt_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "at": _iso(row["at"]),
        "manual": bool(row["manual"]),
        "http_status": row["http_status"],
        "answer": row["answer"],
        "error": row["error"],
        "delivered": bool(row["delivered"]),
    }


def _notification_json(
    row: sqlite3.Row, attempts: list[dict[str, Any]], scale: float
) -> dict[str, Any]:
    subject = row["trade_no"] or None
    fund_auth = row["notify_type"].startswith(FUND_AUTH_PREFIX)
    return {
        "id": row["notify_id"],
        "notify_type": row["notify_type"],
        "app_id": row["app_id"],
        "trade_no": None if fund_auth else subject,
        "auth_no": subject if fund_auth else None,
        "notify_url": row["notify_url"],
        "state": row["state"],
        "fields": json.loads(row["form"]),
        "attempts": attempts,
        "scheduled_attempts": row["scheduled_attempts"],
        "next_attempt_at": _iso(_due_at(row, scale)) if row["state"] == PENDING else None,
        "created_at": _iso(row["created_at"]),
        "delivered_at": _iso(row["delivered_at"]),
    }
