"""Consents that reach their end: marked `expired` by the worker, once, with their event.

An active consent past `expires_at` is already refused and shown as expired when read
(consents.py); this sweep records the fact, so merchants hear `credit.consent.expired` and the
consent's platform token (kept only for the raw-score call) goes with it. One conditional UPDATE
per batch (`FOR UPDATE SKIP LOCKED` on PostgreSQL) moves each consent once, whichever worker
takes it, and its trail entry and event commit with it.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from service.credit.consents import record_event
from service.credit.credit_events import record_consent
from service.credit.models import ACTIVE, EXPIRED, CreditConsent
from service.dbtypes import utcnow
from service.extensions import db
from service.identity.audit import WORKER
from service.scheduler.worker import DueWorkSource
from service.sql import existing, seconds_until_earliest

log = logging.getLogger(__name__)


def expire_consents(worker_id: str, limit: int) -> int:
    """Mark up to `limit` active consents past their end `expired`; returns how many."""
    now = utcnow()
    due = (
        select(CreditConsent.id)
        .where(CreditConsent.status == ACTIVE, CreditConsent.expires_at <= now)
        .order_by(CreditConsent.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    expired = db.session.scalars(
        update(CreditConsent)
        .where(CreditConsent.id.in_(due.scalar_subquery()), CreditConsent.status == ACTIVE)
        .values(status=EXPIRED, platform_token_sealed=None)
        .returning(CreditConsent.id)
        .execution_options(synchronize_session=False)
    ).all()
    for consent_id in sorted(expired):
        record_event(existing(CreditConsent, consent_id), "expired", WORKER)
        record_consent("credit.consent.expired", consent_id)
    db.session.commit()
    if expired:
        log.info("worker %s expired %d consent(s)", worker_id, len(expired))
    return len(expired)


def seconds_until_next_expiry(horizon: float) -> float:
    """How long until the earliest active consent reaches its end (at most `horizon`)."""
    return seconds_until_earliest(
        CreditConsent.expires_at, CreditConsent.status == ACTIVE, horizon=horizon
    )


# Expiring consents as due work, run by every worker (declared in credit/contributions.py).
EXPIRED_CONSENTS = DueWorkSource("expired_consents", expire_consents, seconds_until_next_expiry)
