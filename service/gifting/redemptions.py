"""Redeeming vouchers at a till: an item once, stored value spent down, never below zero.

Each redemption is one conditional UPDATE that only succeeds while the voucher can pay, so
concurrent tills cannot redeem an item twice or overdraw a card; the ledger row that records it
commits in the same transaction.

The ledger row also keeps the till's Idempotency-Key, unique per merchant client. The
idempotency record in front of the route is only a cache of answers (taken over after five
minutes of a stalled first attempt, deleted after 24 hours), so the key on the redemption itself
is what makes a retry, however late, answer the earlier redemption instead of debiting again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError

from service.components import blind_index
from service.dbtypes import utcnow
from service.errors import Conflict, DomainError, NotFound, Unprocessable
from service.extensions import db
from service.gifting import codes
from service.gifting.models import ACTIVE, ISSUED, ITEM, SPENT, Voucher, VoucherLedgerEntry
from service.gifting.snapshots import record_vouchers
from service.sql import existing

log = logging.getLogger(__name__)


class VoucherExpired(DomainError):
    status, code, title = 410, "voucher_expired", "This voucher has expired"


@dataclass(frozen=True)
class Redemption:
    voucher_id: str
    amount_fen: int
    balance_after_fen: int
    store_id: str
    at: datetime


def _voucher_of_code(text: str) -> Voucher:
    code = codes.normalise(text)
    if not codes.is_well_formed(code):
        raise Unprocessable(
            "That is not a voucher code (a character is wrong or missing).",
            code="voucher_code_malformed",
            errors={"code": ["Check the code: its last character does not match."]},
        )
    voucher = db.session.scalars(
        select(Voucher).where(Voucher.code_index == blind_index().digest("voucher_code", code))
    ).first()
    if voucher is None:
        raise NotFound("No voucher has this code.", code="voucher_not_found")
    return voucher


def _earlier_redemption(client_id: str, idempotency_key: str) -> VoucherLedgerEntry | None:
    return db.session.scalars(
        select(VoucherLedgerEntry).where(
            VoucherLedgerEntry.client_id == client_id,
            VoucherLedgerEntry.idempotency_key == idempotency_key,
        )
    ).first()


def _answer_of(earlier: VoucherLedgerEntry, code_text: str, amount_fen: int | None,
               store_id: str) -> Redemption:  # fmt: skip
    """The earlier redemption of this key, if this request asks for exactly it; else a 422.

    The same request means the same voucher (by its code), the same store and the same amount
    (an item voucher's amount may be left out, as it is always the whole).
    """
    voucher = existing(Voucher, earlier.voucher_id)
    code = codes.normalise(code_text)
    same = (
        codes.is_well_formed(code)
        and blind_index().digest("voucher_code", code) == voucher.code_index
        and store_id == earlier.store_id
        and (amount_fen == earlier.amount_fen or (amount_fen is None and voucher.kind == ITEM))
    )
    if not same:
        db.session.rollback()
        raise Unprocessable(
            "This Idempotency-Key was used for another redemption.",
            code="idempotency_key_reused",
        )
    # `store_id` is the earlier entry's (checked above)
    answer = Redemption(voucher.id, earlier.amount_fen, earlier.balance_after_fen,
                        store_id, earlier.at)  # fmt: skip
    db.session.rollback()
    return answer


def redeem(
    code_text: str, amount_fen: int | None, store_id: str, client_id: str, idempotency_key: str
) -> Redemption:
    """Take `amount_fen` from a stored-value voucher, or use an item voucher up, once per key."""
    earlier = _earlier_redemption(client_id, idempotency_key)
    if earlier is not None:
        return _answer_of(earlier, code_text, amount_fen, store_id)
    voucher = _voucher_of_code(code_text)
    now = utcnow()
    if voucher.status == ISSUED:
        raise Conflict("This voucher has not been claimed yet.", code="voucher_not_claimed")
    if voucher.status != ACTIVE:
        raise Conflict("This voucher has been used up.", code="voucher_already_redeemed")
    if voucher.expires_at is not None and voucher.expires_at <= now:
        raise VoucherExpired("This voucher's validity has ended.")
    if voucher.kind == ITEM:
        if amount_fen not in (None, voucher.face_value_fen):
            raise Unprocessable("An item voucher is redeemed whole; leave out amount_fen.",
                                errors={"amount_fen": ["Not for item vouchers."]})  # fmt: skip
        amount_fen = voucher.balance_fen
    elif amount_fen is None:
        raise Unprocessable(
            "Say how much to take from a stored-value voucher.",
            errors={"amount_fen": ["Required for stored-value vouchers."]},
        )
    remaining = Voucher.balance_fen - amount_fen
    balance_after = db.session.scalar(
        update(Voucher)
        .where(Voucher.id == voucher.id, Voucher.status == ACTIVE,
               Voucher.balance_fen >= amount_fen)
        .values(balance_fen=remaining, status=case((remaining == 0, SPENT), else_=ACTIVE))
        .returning(Voucher.balance_fen)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if balance_after is None:
        db.session.rollback()
        if voucher.kind == ITEM:
            raise Conflict("This voucher has been used up.", code="voucher_already_redeemed")
        raise Conflict("The voucher's balance is too low for this amount.",
                       code="insufficient_balance")  # fmt: skip
    # Before the ledger row: its unique key is checked at the commit below, not by a read.
    record_vouchers("voucher.redeemed", [voucher.id], amount_fen=amount_fen,
                    balance_after_fen=balance_after)  # fmt: skip
    db.session.add(VoucherLedgerEntry(
        voucher_id=voucher.id, at=now, type="redeem", amount_fen=amount_fen,
        balance_after_fen=balance_after, store_id=store_id, client_id=client_id,
        idempotency_key=idempotency_key,
    ))  # fmt: skip
    try:
        db.session.commit()
    except IntegrityError:  # a retry with this key committed first: its debit is the one
        db.session.rollback()
        earlier = _earlier_redemption(client_id, idempotency_key)
        if earlier is None:
            raise
        return _answer_of(earlier, code_text, amount_fen, store_id)
    log.info("voucher %s redeemed %d fen at store %s", voucher.id, amount_fen, store_id)
    return Redemption(voucher.id, amount_fen, balance_after, store_id, now)
