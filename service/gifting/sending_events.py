"""The events of a sending batch: `gift.sent` for each gift and `voucher.issued` for each voucher.

Two statements whose snapshots the database builds from the rows as the batch writes them
(service/events/views.py): an INSERT … SELECT for the gifts the batch has just marked sent,
and the vouchers' own insert, which records their events as it writes them. So the batch keeps
a fixed number of statements however many gifts it sends. Every `gift.sent` of the batch comes
before its vouchers' `voucher.issued`. The caller commits, with the rest of the batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.events.views import insert_recorded
from service.gifting.snapshots import VOUCHER_VIEW, record_gifts


def record_sent(gift_ids: Sequence[str], vouchers: Sequence[Mapping[str, Any]]) -> None:
    """Record the batch's `gift.sent` (after its gifts are marked sent), then write its
    vouchers with their `voucher.issued`; the caller commits."""
    record_gifts(["gift.sent"], gift_ids)
    insert_recorded(VOUCHER_VIEW, "voucher.issued", vouchers)
