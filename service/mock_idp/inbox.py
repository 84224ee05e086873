"""Users' message inboxes: where template messages land, so a test can see what a user was told.

An optional `out_biz_no` (the platform's idempotency key for sends, §6) makes a send happen
once per app: a repeat is answered as a success and adds nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.mock_idp.store import MockStore, register_table

register_table(
    "inbox_messages",
    """CREATE TABLE IF NOT EXISTS inbox_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, app_id TEXT NOT NULL,
        user_template_id TEXT NOT NULL, page TEXT NOT NULL, data TEXT NOT NULL,
        form_id TEXT, out_biz_no TEXT, received_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS inbox_by_user ON inbox_messages (user_id)",
    """CREATE UNIQUE INDEX IF NOT EXISTS inbox_by_send_key ON inbox_messages (app_id, out_biz_no)
        WHERE out_biz_no IS NOT NULL""",
)


@dataclass(frozen=True)
class TemplateMessage:
    """One template message an app sends to one user."""

    user_id: str
    app_id: str
    user_template_id: str
    page: str
    data: dict[str, Any]
    form_id: str | None = None
    out_biz_no: str | None = None


def deliver_message(store: MockStore, message: TemplateMessage, now: float) -> bool:
    """Put the message in the user's inbox; False when its out_biz_no was already sent."""
    changed = store.execute(
        "INSERT OR IGNORE INTO inbox_messages (user_id, app_id, user_template_id, page, data,"
        " form_id, out_biz_no, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            message.user_id, message.app_id, message.user_template_id, message.page,
            json.dumps(message.data, ensure_ascii=False), message.form_id, message.out_biz_no,
            now,
        ),
    )  # fmt: skip
    return changed == 1


def list_inbox(store: MockStore, user_id: str) -> list[dict[str, Any]]:
    """The messages a user received, oldest first (newest last)."""
    rows = store.query(
        "SELECT * FROM inbox_messages WHERE user_id = ? ORDER BY received_at, id", (user_id,)
    )
    return [
        {
            "app_id": row["app_id"],
            "user_template_id": row["user_template_id"],
            "page": row["page"],
            "data": json.loads(row["data"]),
            "form_id": row["form_id"],
            "out_biz_no": row["out_biz_no"],
            "received_at": datetime.fromtimestamp(row["received_at"], UTC).isoformat(),
        }
        for row in rows
    ]
