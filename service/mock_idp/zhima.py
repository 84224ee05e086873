"""Zhima credit as the platform answers merchants: the admittance check, the raw score, and its
memory of `transaction_id`.

The platform remembers a merchant's `transaction_id` for 24 hours: the same request again gets
the first answer and `biz_no`, even if the person's credit changed meanwhile, and other content
under the same id is refused. Answers are kept whole, so a replay never recomputes anything.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from service.mock_idp.protocol import BEIJING, GatewayError
from service.mock_idp.store import MockStore
from service.mock_idp.store_tables import register_table

TRANSACTION_TTL_SECONDS = 86_400
NOT_EVALUABLE = "N/A"

register_table(
    "zhima_checks",
    """CREATE TABLE IF NOT EXISTS zhima_checks (
        app_id TEXT NOT NULL, transaction_id TEXT NOT NULL, request_digest TEXT NOT NULL,
        answer TEXT NOT NULL, created_at REAL NOT NULL, PRIMARY KEY (app_id, transaction_id))""",
)


def new_biz_no(now: float) -> str:
    """Opaque and unique: the Beijing date, then random hex."""
    return "ZM" + datetime.fromtimestamp(now, BEIJING).strftime("%Y%m%d") + secrets.token_hex(12)


def person_by_identity(store: MockStore, cert_no: str, name: str) -> dict[str, Any] | None:
    """The user whose ID number and real name are both these, or None."""
    for user in store.list_users():
        if user.get("cert_no", "").upper() == cert_no.upper() and user["user_name"] == name:
            return user
    return None


def admittance(user: dict[str, Any] | None, admittance_score: int) -> str:
    """`Y` when the score reaches the bar, `N` when not, `N/A` when nobody can be evaluated."""
    credit = (user or {}).get("credit") or {}
    if not credit.get("evaluable") or credit.get("zm_score") is None:
        return NOT_EVALUABLE
    return "Y" if credit["zm_score"] >= admittance_score else "N"


def raw_score(user: dict[str, Any]) -> str:
    """The score as the legacy API gives it: its digits, or `N/A`."""
    credit = user.get("credit") or {}
    if not credit.get("evaluable") or credit.get("zm_score") is None:
        return NOT_EVALUABLE
    return str(credit["zm_score"])


def remembered_answer(
    store: MockStore,
    app_id: str,
    transaction_id: str,
    request: dict[str, Any],
    now: float,
    answer: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """The first answer to this transaction_id within 24 hours, else `answer()` remembered."""
    digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
    with store.transaction() as db:
        row = db.execute(
            "SELECT * FROM zhima_checks WHERE app_id = ? AND transaction_id = ?",
            (app_id, transaction_id),
        ).fetchone()
        if row is not None and row["created_at"] > now - TRANSACTION_TTL_SECONDS:
            if row["request_digest"] != digest:
                raise GatewayError(
                    "40004",
                    "ZHIMA_TRANSACTION_ID_REPEATED",
                    "transaction_id 重复：24 小时内同一 transaction_id 的请求内容须一致",
                )
            return json.loads(row["answer"])
        fields = answer()
        db.execute(
            "INSERT OR REPLACE INTO zhima_checks VALUES (?, ?, ?, ?, ?)",
            (app_id, transaction_id, digest, json.dumps(fields, ensure_ascii=False), now),
        )
    return fields
