"""The events of a sending batch: `gift.sent` for each gift and `voucher.issued` for each voucher.

Each is written by the statement that makes the change, its snapshot built by the database from
the row as written (service/events/views.py), so the batch keeps a fixed number of statements
however many gifts it sends and never looks up again a row it has just written. On PostgreSQL
the guarded UPDATE that marks the gifts sent records their `gift.sent`; on SQLite, which has no
data-modifying CTEs, one INSERT … SELECT follows the update. The vouchers' own insert records
their `voucher.issued`. Every `gift.sent` of the batch comes before its vouchers'
`voucher.issued`. The caller commits, with the rest of the batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.sql.dml import Update

from service.events.recorded_writes import insert_recorded, update_recorded
from service.gifting.snapshots import GIFT_VIEW, VOUCHER_VIEW, record_gifts


def mark_sent(update: Update, claims: Any, params: Mapping[str, Any]) -> set[str]:
    """PostgreSQL: run the batch's guarded UPDATE (FROM the `claims` arrays, which carry each
    gift's `event_id`) and record `gift.sent` for each gift it moves; the ids it moved."""
    return set(update_recorded(GIFT_VIEW, "gift.sent", update, claims, params))


def record_sent(gift_ids: Sequence[str]) -> None:
    """SQLite: record `gift.sent` for the gifts the guarded update moved, once their claim
    tokens are set."""
    record_gifts(["gift.sent"], gift_ids)


def record_issued(vouchers: Sequence[Mapping[str, Any]]) -> None:
    """Write the batch's vouchers with their `voucher.issued`."""
    insert_recorded(VOUCHER_VIEW, "voucher.issued", vouchers)
