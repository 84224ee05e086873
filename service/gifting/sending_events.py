"""The events of a sending batch: `gift.sent` for each gift and `voucher.issued` for each voucher.

Two INSERT … SELECT statements whose snapshots the database builds from the rows the batch has
just written (service/events/views.py), so the batch keeps a fixed number of statements however
many gifts it sends, and sends the database only ids. Every `gift.sent` of the batch comes
before its vouchers' `voucher.issued`. The caller commits, with the rest of the batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.gifting.snapshots import record_gifts, record_vouchers


def record_sent(gift_ids: Sequence[str], vouchers: Sequence[Mapping[str, Any]]) -> None:
    """Record a batch's events (after its gifts and vouchers are written); the caller commits."""
    record_gifts(["gift.sent"], gift_ids)
    record_vouchers("voucher.issued", [voucher["id"] for voucher in vouchers])
