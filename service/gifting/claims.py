"""Claiming a sent gift with its claim token, and the wallet of claimed vouchers.

A claim is one conditional UPDATE (`sent` → `claimed`), so of two people racing for a link gift
exactly one wins; the winner's vouchers become theirs in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from service.components import blind_index, field_cipher
from service.dbtypes import utcnow
from service.errors import Conflict, DomainError, Forbidden, NotFound
from service.extensions import db
from service.gifting.models import ACTIVE, CLAIMED, SENT, Gift, GiftEvent, Voucher

log = logging.getLogger(__name__)


class ClaimWindowClosed(DomainError):
    status, code, title = 410, "claim_window_closed", "This gift can no longer be claimed"


def _gift_of_token(token: str) -> Gift:
    gift = db.session.scalars(
        select(Gift).where(Gift.claim_token_index == blind_index().digest("claim_token", token))
    ).first()
    if gift is None:
        raise NotFound("No gift for this claim link.", code="claim_not_found")
    return gift


def preview_claim(token: str) -> Gift:
    """What the claim page shows before claiming: who sent what, with which words (no codes)."""
    return _gift_of_token(token)


def claim_gift(token: str, user_id: str) -> Gift:
    """Make a sent gift's vouchers the claimant's, if the gift is for them and still open."""
    gift = _gift_of_token(token)
    now = utcnow()
    if gift.status == CLAIMED:
        raise Conflict("This gift has already been claimed.", code="gift_already_claimed")
    if gift.status != SENT:
        raise NotFound("No gift for this claim link.", code="claim_not_found")
    if gift.claim_expires_at is not None and now > gift.claim_expires_at:
        raise ClaimWindowClosed("The time to claim this gift has passed.")
    if gift.sender_id == user_id:
        raise Forbidden("A gift is claimed by its recipient.", code="not_the_recipient")
    if gift.recipient_kind == "user" and gift.recipient_user_id != user_id:
        raise Forbidden("This gift is for someone else.", code="not_the_recipient")
    if gift.recipient_kind == "phone":
        raise Forbidden(
            "Gifts addressed by phone number are claimed once phone verification is available.",
            code="phone_verification_unavailable",
        )
    won = db.session.execute(
        update(Gift)
        .where(Gift.id == gift.id, Gift.status == SENT)
        .values(status=CLAIMED, claimed_by=user_id, claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        db.session.rollback()
        raise Conflict("This gift has already been claimed.", code="gift_already_claimed")
    expires_at = now + timedelta(days=gift.template.validity_days)
    db.session.execute(
        update(Voucher)
        .where(Voucher.gift_id == gift.id)
        .values(owner_id=user_id, status=ACTIVE, expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    db.session.add(GiftEvent(gift_id=gift.id, at=now, type="claimed", detail={}))
    db.session.commit()
    db.session.refresh(gift)
    log.info("gift %s claimed", gift.id)
    return gift


def wallet(user_id: str) -> list[Voucher]:
    """The vouchers a user owns, newest first."""
    return list(
        db.session.scalars(
            select(Voucher).where(Voucher.owner_id == user_id).order_by(Voucher.issued_at.desc())
        )
    )


def voucher_with_code(user_id: str, voucher_id: str) -> Voucher:
    """One voucher with its full code opened into `.code`, for its owner only (else a 404)."""
    voucher = db.session.get(Voucher, voucher_id)
    if voucher is None or voucher.owner_id != user_id:
        raise NotFound("No such voucher.", code="voucher_not_found")
    voucher.code = field_cipher().open(voucher.code_sealed, owner=voucher.id)  # not a column
    return voucher
