"""Credit admittance checks: does the user's credit clear a threshold? Yes, no, or unknown.

A check needs the user's active consent for its purpose and a verified identity. It is recorded
(keyed by the caller's Idempotency-Key) and committed before the gateway is asked, so a retry
after a timeout resumes it with the same `transaction_id`, which the platform answers once. The
name and ID number are opened only for that call; the score is never seen (the platform answers
yes or no), and the legacy raw score, where an app is granted it, goes to the merchant client
that asked and nowhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from service.auth.services import existing_user
from service.components import blind_index, gateway, settings
from service.credit import consents
from service.credit.credit_events import record_check
from service.credit.explanations import ADMITTED, NOT_ADMITTED, NOT_EVALUABLE, explain
from service.credit.models import PENDING, CreditCheck
from service.dbtypes import utcnow
from service.errors import Conflict, Forbidden
from service.extensions import db
from service.gateway import zhima
from service.gateway.errors import GatewayRejected
from service.identity.audit import Actor
from service.identity.identities import has_verified_identity, verified_name_and_number
from service.sql import existing, rows_changed
from service.transactions import end_transaction_before_call

log = logging.getLogger(__name__)


def _transaction_id(check_id: str) -> str:
    return check_id.replace("_", "")


def run_check(
    actor: Actor, user_id: str, values: Mapping[str, Any], idempotency_key: str
) -> CreditCheck:
    """Check the user's credit against a threshold for a purpose they consented to."""
    existing_user(user_id)
    purpose = values["purpose"]
    check = db.session.scalars(
        select(CreditCheck).where(
            CreditCheck.requested_by == actor.id, CreditCheck.idempotency_key == idempotency_key
        )
    ).first()
    if check is not None and check.outcome != PENDING:
        return shown(check)
    try:
        consent = consents.consent_for_use(user_id, purpose)
    except Forbidden as refusal:  # withdrawn or expired while a check waited for its answer
        if check is not None:
            _drop_pending(check.id, actor, refusal.code)
        raise
    if not has_verified_identity(user_id):
        raise Forbidden(
            "A credit check needs the user's verified real-name identity.",
            code="identity_not_verified",
        )
    if check is None:
        check = CreditCheck(
            user_id=user_id,
            consent_id=consent.id,
            purpose=purpose,
            requested_by=actor.id,
            idempotency_key=idempotency_key,
            threshold=values.get("threshold") or settings().credit_admittance_score,
            outcome=PENDING,
        )
        db.session.add(check)
        db.session.commit()
    return _ask_platform(check.id, actor)


def _ask_platform(check_id: str, actor: Actor) -> CreditCheck:
    """Steps 3 and 4 of the transaction rule for a recorded check: ask the platform with no
    transaction open, then record its decision (or drop the check it refused); it commits."""
    check = existing(CreditCheck, check_id)
    transaction_id, threshold = _transaction_id(check.id), check.threshold
    verified = verified_name_and_number(check.user_id)
    if verified is None:  # erased since the check was recorded
        raise Forbidden(
            "A credit check needs the user's verified real-name identity.",
            code="identity_not_verified",
        )
    name, id_number = verified
    end_transaction_before_call()
    try:
        admitted, biz_no = zhima.admittance(
            gateway(),
            transaction_id=transaction_id,
            name=name,
            id_number=id_number,
            threshold=threshold,
        )
    except GatewayRejected as exc:
        if exc.sub_code == zhima.INSUFFICIENT_USER_PERMISSIONS:
            _drop_pending(check_id, actor, "platform_consent_missing")
            raise Forbidden(
                "The platform has no Zhima credit authorisation from this user for this app.",
                code="platform_consent_missing",
            ) from None
        raise
    finally:
        del name, id_number, verified
    outcome = {True: ADMITTED, False: NOT_ADMITTED, None: NOT_EVALUABLE}[admitted]
    decided = rows_changed(  # a concurrent retry of the same check may have recorded it first
        update(CreditCheck)
        .where(CreditCheck.id == check_id, CreditCheck.outcome == PENDING)
        .values(outcome=outcome, admitted=admitted, biz_no=biz_no, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    check = existing(CreditCheck, check_id)
    if decided:
        consent = existing(consents.CreditConsent, check.consent_id)
        consents.record_event(consent, "used_for_check", actor, check_id=check.id,
                              threshold=threshold, outcome=outcome)  # fmt: skip
        record_check(check_id)
    db.session.commit()
    db.session.refresh(check)
    log.info("credit check %s: %s", check.id, outcome)
    return shown(check)


def _drop_pending(check_id: str, actor: Actor, code: str) -> None:
    """Drop a pending check that can no longer be answered, keeping why on the consent's trail.

    The platform refused it outright, or the consent ended while it waited. Left pending, it
    would be listed as awaiting an answer that never comes, while its Idempotency-Key replays
    the refusal for good; nothing was decided, so there is no check to keep. It commits (step 4).
    """
    check = existing(CreditCheck, check_id)
    consent = existing(consents.CreditConsent, check.consent_id)
    consents.record_event(consent, "check_dropped", actor, check_id=check.id, code=code)
    db.session.delete(check)
    db.session.commit()
    log.info("pending credit check %s dropped: %s", check_id, code)


def shown(check: CreditCheck) -> CreditCheck:
    """The check with its plain-words explanation attached."""
    check.explanation = explain(  # not a column
        check.outcome, threshold=check.threshold, purpose=check.purpose
    )
    return check


def checks_of(user_id: str) -> list[CreditCheck]:
    """A user's checks, newest first, each with who asked, for what, and the outcome."""
    existing_user(user_id)
    rows = db.session.scalars(
        select(CreditCheck)
        .where(CreditCheck.user_id == user_id)
        .order_by(CreditCheck.created_at.desc(), CreditCheck.id.desc())
    )
    return [shown(check) for check in rows]


@dataclass(frozen=True)
class ScoreDisclosure:
    """A raw score, answered to the merchant client that asked and never stored."""

    user_id: str
    purpose: str
    score: int | None
    decided_at: datetime


def disclose_raw_score(
    actor: Actor, user_id: str, purpose: str, idempotency_key: str
) -> ScoreDisclosure:
    """The legacy raw Zhima score for an app the platform granted it, when configured to."""
    if not settings().credit_raw_score:
        raise Forbidden(
            "This deployment is not configured to read raw credit scores.",
            code="raw_score_not_enabled",
        )
    existing_user(user_id)
    consent = consents.consent_for_use(user_id, purpose)
    auth_token = consents.platform_token(consent)
    if auth_token is None:
        raise Conflict(
            "The consent was granted before raw scores were enabled; ask the user to consent "
            "again.",
            code="platform_token_missing",
        )
    # Derived from the caller's key, so a retry is the same platform transaction; nothing of
    # the answer is kept (not even by the idempotency layer, which this route does not use).
    request = f"{actor.id}\n{idempotency_key}"
    transaction_id = blind_index().digest("zhima_transaction", request)[:32]
    consent_id = consent.id
    end_transaction_before_call()
    score = zhima.raw_score(gateway(), transaction_id=transaction_id, auth_token=auth_token)
    consent = existing(consents.CreditConsent, consent_id)
    consents.record_event(
        consent, "score_disclosed", actor, evaluable=score is not None, purpose=purpose
    )
    db.session.commit()
    return ScoreDisclosure(user_id, purpose, score, utcnow())
