"""Users' message inboxes: where template messages land, so a test can see what a user was told.

Every accepted send is a delivery, as on the platform: template messages have no idempotency key
(reference §6), so a message sent twice is in the inbox twice and tests can count duplicates.
Business parameters the method does not know (an `out_biz_no`, say) are accepted and ignored,
as the platform does; the inbox lists their names under `ignored_parameters`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.mock_idp.store import MockStore
from service.mock_idp.store_tables import register_table

register_table(
    "inbox_messages",
    """CREATE TABLE IF NOT EXISTS inbox_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, app_id TEXT NOT NULL,
        user_template_id TEXT NOT NULL, page TEXT NOT NULL, data TEXT NOT NULL,
        form_id TEXT, ignored TEXT, received_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS inbox_by_user ON inbox_messages (user_id)",
    "DROP INDEX IF EXISTS inbox_by_send_key",  # older data files deduplicated on out_biz_no
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
    ignored: tuple[str, ...] = ()  # business parameters sent that the method does not take


def deliver_message(store: MockStore, message: TemplateMessage, now: float) -> None:
    """Put the message in the user's inbox: every send is one more delivery."""
    store.execute(
        "INSERT INTO inbox_messages (user_id, app_id, user_template_id, page, data, form_id,"
        " ignored, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            message.user_id, message.app_id, message.user_template_id, message.page,
            json.dumps(message.data, ensure_ascii=False), message.form_id,
            json.dumps(sorted(message.ignored)), now,
        ),
    )  # fmt: skip


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
            "ignored_parameters": json.loads(row["ignored"] or "[]"),
            "received_at": datetime.fromtimestamp(row["received_at"], UTC).isoformat(),
        }
        for row in rows
    ]
