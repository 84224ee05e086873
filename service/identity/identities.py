"""A user's verified identity as others may see it (masked), and its erasure on request.

Nothing derived from the ID number is stored in the clear: the masked forms, the birth date and
whether the person is an adult are computed from the sealed values when asked for, so erasing
the sealed values and the blind index erases everything at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, or_, update

from service.auth.services import existing_user
from service.components import field_cipher
from service.dbtypes import utcnow
from service.extensions import db
from service.identity import audit
from service.identity.audit import Actor
from service.identity.idcard import china_today, parse_id_number
from service.identity.identity_events import record_erasure, record_outcome
from service.identity.models import CANCELED, PENDING, Identity, IdentityVerification
from service.identity.user_lock import lock_user
from service.pagination import DEFAULT_LIMIT, Page
from service.security.masking import mask_id_number, mask_name
from service.sql import flush_erased_values, rows_changed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IdentityView:
    """What the API shows of an identity: enough to recognise it, never enough to use it."""

    verified: bool
    name: str | None = None
    id_number: str | None = None
    verified_at: datetime | None = None
    birth_date: date | None = None
    is_adult: bool | None = None


UNVERIFIED = IdentityView(verified=False)


def _view(identity: Identity | None) -> IdentityView:
    if identity is None:
        return UNVERIFIED
    cipher = field_cipher()
    name = cipher.open(identity.name_sealed, owner=identity.user_id)
    number = parse_id_number(
        cipher.open(identity.id_number_sealed, owner=identity.user_id), today=date.max
    )
    return IdentityView(
        verified=True,
        name=mask_name(name),
        id_number=mask_id_number(number.value),
        verified_at=identity.verified_at,
        birth_date=number.birth_date,
        is_adult=number.is_adult_on(china_today()),
    )


def identity_of(user_id: str) -> IdentityView:
    """The caller's own identity, masked."""
    view = _view(db.session.get(Identity, user_id))
    db.session.rollback()
    return view


def identity_for_client(actor: Actor, user_id: str) -> IdentityView:
    """A user's identity as a merchant client with `identity:read` sees it; the read is audited."""
    existing_user(user_id)
    view = _view(db.session.get(Identity, user_id))
    audit.record(user_id, "identity.read", actor, verified=view.verified)
    db.session.commit()
    return view


def erase_identity(actor: Actor) -> IdentityView:
    """Erase the caller's identity data now: sealed values, blind index and masked forms.

    Pending attempts are canceled first (their sealed values go too, and each cancellation is
    audited); finished ones keep only their status and times. All of it happens under the
    user's lock (user_lock.py), so a pass being recorded at this moment is either committed
    before (and erased here) or comes after (and finds its attempt canceled). The audit trail
    records the erasure and keeps no personal data.
    """
    user_id, now = actor.id, utcnow()
    lock_user(user_id)
    canceled = db.session.scalars(
        update(IdentityVerification)
        .where(IdentityVerification.user_id == user_id, IdentityVerification.status == PENDING)
        .values(status=CANCELED, finished_at=now)
        .returning(IdentityVerification.id)
        .execution_options(synchronize_session=False)
    ).all()
    erased = rows_changed(delete(Identity).where(Identity.user_id == user_id))
    cleared = rows_changed(
        update(IdentityVerification)
        .where(IdentityVerification.user_id == user_id,
               or_(IdentityVerification.name_masked.is_not(None),
                   IdentityVerification.id_number_masked.is_not(None),
                   IdentityVerification.id_number_hash.is_not(None)))
        .values(name_sealed=None, id_number_sealed=None, id_number_hash=None, name_masked=None,
                id_number_masked=None)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    for verification_id in sorted(canceled):
        audit.record(user_id, "verification.canceled", actor, verification_id=verification_id,
                     reason="identity_erased")  # fmt: skip
        record_outcome(verification_id, CANCELED)
    audit.record(user_id, "identity.erased", actor, had_identity=bool(erased))
    if erased or cleared:  # a repeated request erases nothing more and says nothing more
        record_erasure(user_id, now)
    db.session.commit()
    flush_erased_values()
    log.info("identity data of %s erased", user_id)
    return UNVERIFIED


def events_for(user_id: str, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page:
    """A page of the caller's record of processing (PIPL's right to know how their data was
    used), newest first."""
    page = audit.events_of(user_id, limit=limit, cursor=cursor)
    db.session.rollback()
    return page


def has_verified_identity(user_id: str) -> bool:
    """Whether the user has a verified identity (nothing is opened to tell)."""
    return db.session.get(Identity, user_id) is not None


def verified_name_and_number(user_id: str) -> tuple[str, str] | None:
    """The verified real name and ID number, opened for one gateway call; None if unverified.

    Callers pass them straight to the gateway and keep them nowhere else (not in logs, not in
    exceptions' messages, not in the session after the call).
    """
    identity = db.session.get(Identity, user_id)
    if identity is None:
        return None
    cipher = field_cipher()
    return (
        cipher.open(identity.name_sealed, owner=user_id),
        cipher.open(identity.id_number_sealed, owner=user_id),
    )
