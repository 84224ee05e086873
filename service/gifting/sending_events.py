"""The events of a sending batch: `gift.sent` for each gift and `voucher.issued` for each voucher.

Built from the rows the batch has just written (one read of the gifts, the voucher dicts it
inserted) and recorded in one multi-row insert, so the batch keeps a fixed number of statements
however many gifts it sends. The caller commits, with the rest of the batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from service.events.log import NewEvent, record_many
from service.gifting.snapshots import gift_event, gift_rows, voucher_event


def sent_events(gifts: Iterable[Any], vouchers: Iterable[Mapping[str, Any]]) -> list[NewEvent]:
    """Each gift's `gift.sent` followed by its vouchers' `voucher.issued`."""
    by_gift: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for voucher in vouchers:
        by_gift[voucher["gift_id"]].append(voucher)
    events: list[NewEvent] = []
    for gift in gifts:
        events.append(gift_event("gift.sent", gift))
        events.extend(voucher_event("voucher.issued", voucher) for voucher in by_gift[gift.id])
    return events


def record_sent(gift_ids: list[str], vouchers: list[dict[str, Any]]) -> None:
    """Record a batch's events (after its gifts are updated); the caller commits."""
    record_many(sent_events(gift_rows(gift_ids), vouchers))
