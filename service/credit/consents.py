"""Purpose-bound credit consents: granted with an `auth_zhima` code, used, withdrawn, audited.

A consent is separate from login and tied to one purpose from the configured list (PIPL arts.
15, 29): a check or deposit needs the latest consent for its purpose to be active. Withdrawal is
one call and takes effect at once; the record of what was done under the consent stays.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from service.auth.models import User
from service.auth.services import exchange_auth_code
from service.components import field_cipher, settings
from service.credit.credit_events import record_consent
from service.credit.models import ACTIVE, REPLACED, WITHDRAWN, ConsentEvent, CreditConsent
from service.dbtypes import utcnow
from service.errors import Forbidden, Unprocessable
from service.extensions import db
from service.identity.audit import Actor
from service.ownership import owned_or_404
from service.pagination import DEFAULT_LIMIT, Ordering, Page, paginate
from service.sql import existing, rows_changed
from service.transactions import end_transaction_before_call

log = logging.getLogger(__name__)
ZHIMA_SCOPE = "auth_zhima"
EXPIRED = "expired"  # shown for an active consent past its expiry, stored by consent_expiry.py


def _purpose(value: str) -> str:
    allowed = settings().credit_purposes
    if value not in allowed:
        message = f"Must be one of: {', '.join(allowed)}."
        raise Unprocessable(
            "Unknown consent purpose.", code="purpose_unknown", errors={"purpose": [message]}
        )
    return value


def granted_scopes(grant: Mapping[str, Any], reported: Iterable[str]) -> tuple[frozenset[str], str]:
    """The scopes the code carried, and who said so.

    The platform's token answer does not name them, so Minifin takes what `my.getAuthCode`
    reported to the mini-program (`authSuccessScopes`); a platform answer that does name them
    (`scope`, comma- or space-separated) is preferred. The platform enforces the scope itself when
    it is used: a check without it is refused (`platform_consent_missing`).
    """
    text = str(grant.get("scope") or grant.get("auth_scope") or "")
    from_platform = frozenset(part for part in text.replace(",", " ").split() if part)
    if from_platform:
        return from_platform, "platform"
    return frozenset(reported), "mini_program"


def record_event(consent: CreditConsent, type_: str, actor: Actor, **detail: Any) -> None:
    """Add one event to the consent's trail; committed with the change it describes."""
    db.session.add(
        ConsentEvent(
            consent_id=consent.id,
            user_id=consent.user_id,
            type=type_,
            actor=actor.id,
            origin=actor.origin,
            at=utcnow(),
            detail=detail,
        )
    )


def grant_consent(
    actor: Actor, values: Mapping[str, Any], idempotency_key: str | None
) -> CreditConsent:
    """Exchange an `auth_zhima` auth code and record the user's consent for one purpose."""
    purpose = _purpose(values["purpose"])
    earlier = (
        idempotency_key
        and db.session.scalars(
            select(CreditConsent).where(
                CreditConsent.user_id == actor.id, CreditConsent.idempotency_key == idempotency_key
            )
        ).first()
    )
    if earlier:
        return shown(earlier)
    end_transaction_before_call()
    grant = exchange_auth_code(values["auth_code"])
    user = existing(User, actor.id)
    if not _same_user(user, grant):
        raise Forbidden(
            "The auth code belongs to another platform user.", code="auth_code_other_user"
        )
    scopes, scopes_from = granted_scopes(grant, values["scopes"])
    if ZHIMA_SCOPE not in scopes:
        raise Forbidden(
            "The auth code was not granted the auth_zhima scope; ask again with "
            "my.getAuthCode({scopes: 'auth_zhima'}).",
            code="zhima_scope_missing",
        )
    now = utcnow()
    config = settings()
    consent = CreditConsent(
        user_id=user.id,
        idempotency_key=idempotency_key,
        purpose=purpose,
        scope=ZHIMA_SCOPE,
        policy_version=config.credit_policy_version,
        status=ACTIVE,
        granted_at=now,
        expires_at=now + timedelta(days=config.credit_consent_days),
        evidence={
            "platform_app_id": config.app_id,
            "scopes": sorted(scopes),
            "scopes_from": scopes_from,
            "platform_auth_start": grant.get("auth_start"),
            "received_from": actor.origin,
            "policy_version": config.credit_policy_version,
        },
    )
    db.session.add(consent)
    db.session.flush()
    if config.credit_raw_score:  # kept only where the raw-score call, which needs it, is enabled
        consent.platform_token_sealed = field_cipher().seal(
            json.dumps({"access_token": grant["access_token"]}), owner=consent.id
        )
    _replace_earlier(consent, actor)
    record_event(consent, "granted", actor, purpose=purpose)
    record_consent("credit.consent.granted", consent.id)
    db.session.commit()
    log.info("consent %s granted for %s", consent.id, purpose)
    return shown(consent)


def _same_user(user: User, grant: Mapping[str, Any]) -> bool:
    by_id = grant.get("user_id") and grant.get("user_id") == user.platform_user_id
    by_open_id = grant.get("open_id") and grant.get("open_id") == user.open_id
    return bool(by_id or by_open_id)


def _replace_earlier(consent: CreditConsent, actor: Actor) -> None:
    """A new consent for a purpose supersedes the active one: one consent per purpose counts."""
    earlier = db.session.scalars(
        select(CreditConsent).where(
            CreditConsent.user_id == consent.user_id,
            CreditConsent.purpose == consent.purpose,
            CreditConsent.status == ACTIVE,
            CreditConsent.id != consent.id,
        )
    ).all()
    for old in earlier:
        old.status, old.platform_token_sealed = REPLACED, None
        record_event(old, "replaced", actor, by=consent.id)
        record_consent("credit.consent.replaced", old.id)


def shown(consent: CreditConsent) -> CreditConsent:
    """The consent with its status as seen now (an active one past its expiry is `expired`)."""
    expired = consent.status == ACTIVE and consent.expires_at <= utcnow()
    consent.shown_status = EXPIRED if expired else consent.status  # not a column
    return consent


def consent_for_use(user_id: str, purpose: str) -> CreditConsent:
    """The consent a check or deposit for `purpose` rests on, or the 403 that says why not."""
    latest = db.session.scalars(
        select(CreditConsent)
        .where(CreditConsent.user_id == user_id, CreditConsent.purpose == purpose)
        .order_by(CreditConsent.granted_at.desc(), CreditConsent.id.desc())
    ).first()
    if latest is None:
        raise Forbidden(
            f"The user has not consented to credit processing for {purpose}.",
            code="consent_required",
        )
    status = shown(latest).shown_status
    if status == WITHDRAWN:
        raise Forbidden(f"The user withdrew their consent for {purpose}.", code="consent_withdrawn")
    if status != ACTIVE:
        raise Forbidden(f"The user's consent for {purpose} has expired.", code="consent_expired")
    return latest


CONSENT_ORDER = Ordering(CreditConsent.granted_at, CreditConsent.id)


def consents_of(user_id: str, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page:
    """A page of the user's consents, newest first."""
    page = paginate(
        select(CreditConsent).where(CreditConsent.user_id == user_id), CONSENT_ORDER,
        list_name="credit_consents", limit=limit, cursor=cursor, filters={"user": user_id},
    )  # fmt: skip
    return replace(page, data=[shown(consent) for consent in page.data])


def _own_consent(user_id: str, consent_id: str) -> CreditConsent:
    return owned_or_404(
        CreditConsent,
        consent_id,
        owner=CreditConsent.user_id,
        owner_id=user_id,
        detail="No such consent.",
        code="consent_not_found",
    )


def consent_with_events(user_id: str, consent_id: str) -> CreditConsent:
    """One of the user's consents with everything done under it, oldest first."""
    consent = shown(_own_consent(user_id, consent_id))
    consent.events = list(  # not a column
        db.session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.consent_id == consent.id)
            .order_by(ConsentEvent.at, ConsentEvent.id)
        )
    )
    return consent


def withdraw_consent(actor: Actor, consent_id: str) -> CreditConsent:
    """Withdraw at once; later checks and deposits under it are refused. Repeating is harmless."""
    consent = _own_consent(actor.id, consent_id)
    if consent.status == ACTIVE:
        now = utcnow()
        changed = rows_changed(
            update(CreditConsent)
            .where(CreditConsent.id == consent.id, CreditConsent.status == ACTIVE)
            .values(status=WITHDRAWN, withdrawn_at=now, platform_token_sealed=None)
        )
        if changed:
            record_event(consent, "withdrawn", actor)
            record_consent("credit.consent.withdrawn", consent.id)
        db.session.commit()
        log.info("consent %s withdrawn", consent_id)
    return consent_with_events(actor.id, consent_id)


def platform_token(consent: CreditConsent) -> str | None:
    """The platform user token kept for the raw-score call, while the consent is active."""
    if not consent.platform_token_sealed:
        return None
    sealed = field_cipher().open(consent.platform_token_sealed, owner=consent.id)
    return json.loads(sealed)["access_token"]
