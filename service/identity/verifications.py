"""Face verification attempts: start one, follow it to its outcome, cancel it, expire it.

An attempt is recorded (sealed name and ID number, keyed by the caller's Idempotency-Key) and
committed before the gateway is asked to initialize it, so a retry after a timeout resumes the
same attempt with the same `outer_order_no`. The outcome is only ever what the gateway's query
says: a refresh on read, and a job at the end of the window that settles whatever is still open.
Whatever way an attempt ends, its sealed values leave it: into the identity when it passed,
erased otherwise.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from service.auth.models import User
from service.components import blind_index, field_cipher, gateway, settings
from service.dbtypes import utcnow
from service.errors import Conflict, TooManyRequests, Unprocessable
from service.extensions import db
from service.gateway import certification
from service.gateway.errors import GatewayRejected
from service.identity import audit
from service.identity.audit import Actor
from service.identity.idcard import (
    IdentityRuleError,
    china_today,
    normalize_name,
    parse_id_number,
)
from service.identity.models import (
    CANCELED,
    EXPIRED,
    FAILED,
    PASSED,
    PENDING,
    Identity,
    IdentityVerification,
)
from service.identity.outcomes import (
    ALREADY_BOUND,
    NOT_FINISHED_IN_TIME,
    finish,
    identity_owner,
    reason_code,
)
from service.identity.user_lock import lock_user
from service.ownership import owned_or_404
from service.scheduler.outbox import ClaimedJob, enqueue
from service.security.masking import mask_id_number, mask_name
from service.sql import existing, rows_changed
from service.transactions import end_transaction_before_call

log = logging.getLogger(__name__)
SETTLE_VERIFICATION = "identity.settle_verification"
ATTEMPT_WINDOW = timedelta(hours=24)


def _checked_identity(values: Mapping[str, Any]) -> tuple[str, str]:
    """The normalised name and ID number, or a 422 naming the field and the rule it breaks."""
    if values.get("consent") is not True:
        raise Unprocessable(
            "Verifying a real name needs the user's separate, explicit consent.",
            code="consent_required",
            errors={"consent": ["Must be true: the user agreed to face verification."]},
        )
    try:
        name = normalize_name(values["name"])
    except IdentityRuleError as error:
        raise _refusal("name", error) from None
    try:
        id_number = parse_id_number(values["id_number"], today=china_today()).value
    except IdentityRuleError as error:
        raise _refusal("id_number", error) from None
    return name, id_number


def _refusal(field: str, error: IdentityRuleError) -> Unprocessable:
    return Unprocessable(error.message, code=error.code, errors={field: [error.message]})


def _outer_order_no(verification_id: str) -> str:
    """The gateway takes letters and digits only; the id without its underscore is unique."""
    return verification_id.replace("_", "")


def _refuse_if_bound_elsewhere(user: User, id_number_hash: str) -> None:
    owner = identity_owner(user.app_id, id_number_hash)
    if owner is not None and owner != user.id:
        raise Conflict(
            "This identity is already verified for another account of this mini-program.",
            code=ALREADY_BOUND,
        )
    if owner is None:
        mine = db.session.scalar(select(Identity.id_number_hash).where(Identity.user_id == user.id))
        if mine is not None:
            raise Conflict(
                "Your account is verified with another identity; erase it before verifying a "
                "different one.",
                code="identity_mismatch",
            )


def _refuse_over_limit(user_id: str, now: datetime) -> None:
    since = now - ATTEMPT_WINDOW
    count, oldest = db.session.execute(
        select(func.count(), func.min(IdentityVerification.created_at)).where(
            IdentityVerification.user_id == user_id, IdentityVerification.created_at > since
        )
    ).one()
    limit = settings().identity_attempts_per_day
    if count >= limit:
        retry_after = max(1, math.ceil((oldest + ATTEMPT_WINDOW - now).total_seconds()))
        raise TooManyRequests(
            f"At most {limit} verification attempts in 24 hours; try again later.",
            code="verification_attempts_exceeded",
            headers={"Retry-After": str(retry_after)},
        )


def start_verification(
    actor: Actor, values: Mapping[str, Any], idempotency_key: str
) -> IdentityVerification:
    """Check the input, record the attempt, initialize it at the gateway, and return it."""
    user = existing(User, actor.id)
    name, id_number = _checked_identity(values)
    id_number_hash = blind_index().digest("id_number", id_number)
    verification = db.session.scalars(
        select(IdentityVerification).where(
            IdentityVerification.user_id == user.id,
            IdentityVerification.idempotency_key == idempotency_key,
        )
    ).first()
    if verification is not None and verification.id_number_hash != id_number_hash:
        raise Unprocessable(
            "This Idempotency-Key was used for another verification.",
            code="idempotency_key_reused",
        )
    if verification is None:
        lock_user(user.id)  # the count and the insert below are one step for this user
        _refuse_if_bound_elsewhere(user, id_number_hash)
        now = utcnow()
        _refuse_over_limit(user.id, now)
        cipher = field_cipher()
        verification = IdentityVerification(
            user_id=user.id,
            idempotency_key=idempotency_key,
            name_sealed=cipher.seal(name, owner=user.id),
            id_number_sealed=cipher.seal(id_number, owner=user.id),
            id_number_hash=id_number_hash,
            name_masked=mask_name(name),
            id_number_masked=mask_id_number(id_number),
            return_url=values["return_url"],
            created_at=now,
            expires_at=now + timedelta(minutes=settings().identity_verification_minutes),
        )
        db.session.add(verification)
        db.session.flush()
        audit.record(user.id, "verification.started", actor, verification_id=verification.id)
        enqueue(
            SETTLE_VERIFICATION,
            {"verification_id": verification.id},
            run_at=verification.expires_at,
            dedupe_key=f"settle:{verification.id}",
        )
        db.session.commit()
    if verification.status == PENDING and verification.certify_id is None:
        _initialize(verification, name, id_number)
        db.session.refresh(verification)  # an erasure may have canceled it meanwhile
    return _shown(verification)


def _initialize(verification: IdentityVerification, name: str, id_number: str) -> None:
    """Register the attempt at the gateway (safe to repeat: same `outer_order_no`).

    The name and number leave only for an attempt that is still pending when read again right
    before the call: an erasure (or a cancel) may have ended it since it was recorded, and then
    nothing is sent. An erasure that commits while the call is in flight cannot recall what was
    sent; the attempt stays canceled and no certify_id is recorded for it.
    """
    verification_id, return_url = verification.id, verification.return_url
    db.session.refresh(verification)
    still_open = verification.status == PENDING and verification.certify_id is None
    end_transaction_before_call()
    if not still_open:
        log.info("verification %s ended before it was sent to the platform", verification_id)
        return
    certify_id = certification.initialize_certification(
        gateway(),
        outer_order_no=_outer_order_no(verification_id),
        cert_name=name,
        cert_no=id_number,
        return_url=return_url,
    )
    recorded = rows_changed(
        update(IdentityVerification)
        .where(IdentityVerification.id == verification_id, IdentityVerification.status == PENDING)
        .values(certify_id=certify_id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if recorded:
        log.info("verification %s initialized", verification_id)
    else:
        log.warning("verification %s ended while the platform was initializing it", verification_id)


def _resume_initialize(verification: IdentityVerification) -> None:
    """A pending attempt whose initialization failed earlier: try again with its sealed values."""
    cipher = field_cipher()
    name_sealed, id_number_sealed, _ = verification.sealed_values()
    name = cipher.open(name_sealed, owner=verification.user_id)
    id_number = cipher.open(id_number_sealed, owner=verification.user_id)
    _initialize(verification, name, id_number)


def _shown(verification: IdentityVerification) -> IdentityVerification:
    """Attach the signed face-scan URL while the attempt can still be completed.

    Signed when it is shown rather than stored, so the signature's timestamp is fresh.
    """
    certify_id = verification.certify_id if verification.status == PENDING else None
    verification.certify_url = (  # not a column
        certification.certify_page_url(gateway(), certify_id) if certify_id is not None else None
    )
    return verification


def _own_verification(user_id: str, verification_id: str) -> IdentityVerification:
    return owned_or_404(
        IdentityVerification,
        verification_id,
        owner=IdentityVerification.user_id,
        owner_id=user_id,
        detail="No such verification.",
        code="verification_not_found",
    )


def verification_for(actor: Actor, verification_id: str) -> IdentityVerification:
    """The caller's attempt, brought up to date from the gateway while it is pending."""
    verification = _own_verification(actor.id, verification_id)
    if verification.status == PENDING:
        refresh(verification, actor)
        verification = existing(IdentityVerification, verification_id)
    return _shown(verification)


def refresh(verification: IdentityVerification, actor: Actor) -> None:
    """Ask the gateway how a pending attempt stands and record an outcome if it has one."""
    if verification.certify_id is None:
        if utcnow() >= verification.expires_at:
            finish(verification, EXPIRED, NOT_FINISHED_IN_TIME, actor)
        else:
            _resume_initialize(verification)
        return
    certify_id, verification_id = verification.certify_id, verification.id
    end_transaction_before_call()
    try:
        result = certification.query_certification(gateway(), certify_id)
    except GatewayRejected as error:
        if error.sub_code != certification.CERTIFY_ID_NOT_EXIST:
            raise
        result = None  # the platform forgot it: it was never finished in time
    verification = existing(IdentityVerification, verification_id)
    if result is None:
        finish(verification, EXPIRED, NOT_FINISHED_IN_TIME, actor)
        return
    if result.passed:
        finish(verification, PASSED, None, actor)
    elif result.finished:
        finish(verification, FAILED, reason_code(result.fail_reason), actor)
    elif utcnow() >= verification.expires_at:
        finish(verification, EXPIRED, NOT_FINISHED_IN_TIME, actor)


def cancel_verification(actor: Actor, verification_id: str) -> IdentityVerification:
    """Give up a pending attempt; its sealed values are erased at once."""
    verification = _own_verification(actor.id, verification_id)
    if verification.status != PENDING or not finish(verification, CANCELED, None, actor):
        db.session.refresh(verification)
        raise Conflict(
            f"Only a pending verification can be canceled; this one is {verification.status}.",
            code="verification_not_pending",
        )
    return _shown(verification)


def settle_verification(job: ClaimedJob) -> None:
    """At the end of the window: record the outcome, or expire the attempt and erase its data."""
    verification = db.session.get(IdentityVerification, job.payload["verification_id"])
    if verification is None or verification.status != PENDING:
        db.session.rollback()
        return
    refresh(verification, audit.WORKER)
    verification = existing(IdentityVerification, job.payload["verification_id"])
    if verification.status == PENDING:  # the gateway says unfinished and the clock says late
        finish(verification, EXPIRED, NOT_FINISHED_IN_TIME, audit.WORKER)
