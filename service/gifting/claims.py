"""Claiming a sent gift with its claim token, and the wallet of claimed vouchers.

A claim is one conditional UPDATE (`sent` → `claimed`), so of two people racing for a link gift
exactly one wins; the winner's vouchers become theirs in the same transaction. A gift for a user
is theirs alone; a gift for a phone number belongs to whoever's verified mobile (kept only as a
blind index, see auth/phones.py) has the same digest.
"""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta

from sqlalchemy import select, update

from service.auth.models import User
from service.components import blind_index, field_cipher, settings
from service.dbtypes import utcnow
from service.errors import Conflict, DomainError, Forbidden, NotFound
from service.extensions import db
from service.gifting.models import ACTIVE, CLAIMED, SENT, Gift, GiftEvent, Voucher
from service.gifting.snapshots import record_gift
from service.ownership import owned_or_404
from service.sql import rows_changed

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


def claim_url(token: str) -> str:
    """The claim page a browser opens (the mini-program opens `pages/gift/claim?token=`)."""
    return f"{settings().public_url}/claim/{token}"


def claim_page_link(gift_id: str, page: str) -> str | None:
    """`<page>?token=<claim token>` for a gift's message, opened from its seal only now.

    The token is a bearer secret: it is sealed on the gift and put into a link only at the
    moment the link leaves (a message being sent, a page being shown), never stored in clear.
    None when the gift has no claim token.
    """
    sealed = db.session.scalar(select(Gift.claim_token_sealed).where(Gift.id == gift_id))
    # Ends the read: no transaction stays open across the gateway call. A commit, not
    # end_transaction_before_call(): the message job's session keeps what it has loaded.
    db.session.commit()
    if sealed is None:
        return None
    return f"{page}?token={field_cipher().open(sealed, owner=gift_id)}"


def reveal_claim_link(gift: Gift, viewer_id: str) -> None:
    """Open the claim token into `.claim_token` and `.claim_url` (not columns) for who may see it.

    While the gift waits to be claimed: its sender sees the link of a `link` gift (to pass on)
    and of a `phone` gift (its number's owner may not use this app yet; only they can claim it);
    a named recipient sees their own. Nobody sees it before sending or after the claim.
    """
    if gift.status != SENT or gift.claim_token_sealed is None:
        return
    if gift.sender_id == viewer_id:
        shown = gift.recipient_kind in ("link", "phone")
    else:  # the caller found the gift among the viewer's own: they are its recipient
        shown = gift.recipient_kind in ("user", "phone")
    if shown:
        gift.claim_token = field_cipher().open(gift.claim_token_sealed, owner=gift.id)
        gift.claim_url = claim_url(gift.claim_token)


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
        _check_phone_owner(gift, user_id)
    won = rows_changed(
        update(Gift)
        .where(Gift.id == gift.id, Gift.status == SENT)
        .values(status=CLAIMED, claimed_by=user_id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
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
    record_gift("gift.claimed", gift.id)
    db.session.commit()
    db.session.refresh(gift)
    log.info("gift %s claimed", gift.id)
    return gift


def _check_phone_owner(gift: Gift, user_id: str) -> None:
    """A gift addressed to a number is claimed only by the user whose verified mobile it is."""
    phone_hash = db.session.scalar(select(User.phone_hash).where(User.id == user_id))
    if phone_hash is None:
        raise Forbidden(
            "This gift is for a phone number, and we have no verified mobile of yours to compare "
            "it with: prove yours with POST /v1/me/phone (what my.getPhoneNumber returns).",
            code="phone_not_verified",
        )
    if not hmac.compare_digest(phone_hash, gift.recipient_phone_hash or ""):
        raise Forbidden("This gift is for someone else.", code="not_the_recipient")


def wallet(user_id: str) -> list[Voucher]:
    """The vouchers a user owns, newest first."""
    return list(
        db.session.scalars(
            select(Voucher).where(Voucher.owner_id == user_id).order_by(Voucher.issued_at.desc())
        )
    )


def voucher_with_code(user_id: str, voucher_id: str) -> Voucher:
    """One voucher with its full code opened into `.code`, for its owner only (else a 404)."""
    voucher = owned_or_404(
        Voucher,
        voucher_id,
        owner=Voucher.owner_id,
        owner_id=user_id,
        detail="No such voucher.",
        code="voucher_not_found",
    )
    voucher.code = field_cipher().open(voucher.code_sealed, owner=voucher.id)  # not a column
    return voucher
