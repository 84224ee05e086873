"""The identity capability's merchant events: a verification's outcome (a cancel included), an
identity's erasure.

Recorded by the transaction that makes the change, after its conditional update moved the row,
so an outcome reached twice (a read and the worker at the same moment) is recorded once. The
snapshots carry the attempt's status and times, never the name or number. The caller commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from schemas.identity import MerchantErasureSchema, MerchantVerificationSchema
from service.events.log import record
from service.extensions import db
from service.identity.models import CANCELED, EXPIRED, FAILED, PASSED, IdentityVerification

OUTCOME_EVENTS = {
    PASSED: "identity.verification.passed",
    FAILED: "identity.verification.failed",
    EXPIRED: "identity.verification.expired",
    CANCELED: "identity.verification.canceled",
}
_COLUMNS = (
    IdentityVerification.id, IdentityVerification.user_id, IdentityVerification.status,
    IdentityVerification.fail_reason, IdentityVerification.created_at,
    IdentityVerification.expires_at, IdentityVerification.finished_at,
)  # fmt: skip


def record_outcome(verification_id: str, status: str) -> None:
    """The event of an attempt's outcome; the caller commits."""
    event_type = OUTCOME_EVENTS.get(status)
    if event_type is None:
        return
    row = db.session.execute(
        select(*_COLUMNS).where(IdentityVerification.id == verification_id)
    ).one()
    record(event_type, "identity_verification", row.id, MerchantVerificationSchema().dump(row))


def record_erasure(user_id: str, at: datetime) -> None:
    """`identity.erased` for the user; the caller commits."""
    data = MerchantErasureSchema().dump({"user_id": user_id, "verified": False, "erased_at": at})
    record("identity.erased", "identity", user_id, data)
