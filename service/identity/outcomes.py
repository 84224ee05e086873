"""How a verification attempt ends: once, with its sealed values moved or erased, and audited.

Several paths reach an outcome (a user's read, the worker at the end of the window, a cancel,
an erasure), possibly at the same moment, so the move out of `pending` is one conditional
UPDATE and only its winner binds the identity and writes the audit event. It is made under the
user's lock (user_lock.py), which an erasure takes too: a pass recorded first is then erased
with everything else, and a pass that arrives after an erasure finds its attempt canceled and
binds nothing.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from service.auth.models import User
from service.dbtypes import utcnow
from service.extensions import db
from service.identity import audit
from service.identity.audit import Actor
from service.identity.identity_events import record_outcome
from service.identity.models import FAILED, PASSED, PENDING, Identity, IdentityVerification
from service.identity.user_lock import lock_user
from service.sql import existing, rows_changed

log = logging.getLogger(__name__)
# Reasons Minifin itself gives (the gateway's own failure codes are passed through).
ALREADY_BOUND = "identity_already_bound"
NOT_FINISHED_IN_TIME = "not_finished_in_time"
_REASON_CODE = re.compile(r"[(（]([A-Z][A-Z0-9_]{2,60})[)）]\s*$")


def reason_code(fail_reason: str | None) -> str:
    """A stable snake_case code for the platform's failure text.

    The platform words `fail_reason` for people (`人脸比对不一致（FACE_NOT_MATCH）`); clients get
    the code in its brackets, or a generic one when there is none.
    """
    match = _REASON_CODE.search(fail_reason or "")
    return match.group(1).lower() if match else "face_verification_failed"


def finish(
    verification: IdentityVerification, status: str, reason: str | None, actor: Actor
) -> bool:
    """Move a pending attempt to its outcome once (a conditional update) and commit.

    Returns whether this call made the move; a concurrent refresh that got there first wins.
    A pass binds the identity to the user, unless another account got it meanwhile.
    """
    user_id, verification_id = verification.user_id, verification.id
    lock_user(user_id)
    db.session.refresh(verification)  # what the lock's previous holder (an erasure?) left
    if verification.status != PENDING:
        db.session.rollback()
        return False
    binding = None  # the app and the sealed values a pass binds to the user
    if status == PASSED:
        sealed = verification.sealed_values()
        app_id = existing(User, user_id).app_id
        if identity_owner(app_id, sealed[2]) not in (None, user_id):
            status, reason = FAILED, ALREADY_BOUND
        else:
            binding = (app_id, sealed)
    now = utcnow()
    moved = rows_changed(
        update(IdentityVerification)
        .where(IdentityVerification.id == verification_id, IdentityVerification.status == PENDING)
        .values(status=status, fail_reason=reason, finished_at=now, name_sealed=None,
                id_number_sealed=None, id_number_hash=None)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if not moved:
        db.session.rollback()
        return False
    if binding is not None:
        _bind_identity(user_id, binding[0], verification_id, binding[1], now)
    detail = {"fail_reason": reason} if reason else {}
    audit.record(
        user_id, f"verification.{status}", actor, verification_id=verification_id, **detail
    )
    record_outcome(verification_id, status)
    try:
        db.session.commit()
    except IntegrityError:  # another account bound the same identity in the same instant
        db.session.rollback()
        return finish(verification, FAILED, ALREADY_BOUND, actor)
    db.session.refresh(verification)
    log.info("verification %s %s", verification_id, status)
    return True


def identity_owner(app_id: str, id_number_hash: str) -> str | None:
    """The user of this app whose identity has this ID number (by blind index), if any."""
    return db.session.scalar(
        select(Identity.user_id).where(
            Identity.app_id == app_id, Identity.id_number_hash == id_number_hash
        )
    )


def _bind_identity(
    user_id: str, app_id: str, verification_id: str, sealed: tuple[str, str, str], now: datetime
) -> None:
    name_sealed, id_number_sealed, id_number_hash = sealed
    identity = db.session.get(Identity, user_id)
    if identity is None:
        identity = Identity(user_id=user_id, app_id=app_id)
        db.session.add(identity)
    identity.name_sealed = name_sealed
    identity.id_number_sealed = id_number_sealed
    identity.id_number_hash = id_number_hash
    identity.verification_id = verification_id
    identity.verified_at = now
