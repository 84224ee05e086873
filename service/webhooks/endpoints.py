"""Webhook endpoint use cases: register, list, change, remove, rotate the signing secret.

Endpoints belong to the deployment's merchant (every client with `webhooks:write` sees them
all, as every merchant client sees every template). A secret is shown once, when it is made;
what is stored is sealed with the field cipher, bound to the endpoint's id, because it must be
recovered to sign. A rotation keeps the previous secret signing alongside the new one for
`MINIFIN_WEBHOOK_SECRET_OVERLAP_HOURS`, so a receiver can switch at its own pace.
"""

from __future__ import annotations

import base64
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from service.components import field_cipher, settings
from service.dbtypes import utcnow
from service.errors import NotFound, Unprocessable
from service.events.types import valid_pattern
from service.extensions import db
from service.ids import new_id
from service.pagination import Ordering, Page, paginate
from service.webhooks.models import FAILED, PENDING, WebhookDelivery, WebhookEndpoint
from service.webhooks.ssrf import check_url

log = logging.getLogger(__name__)
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """`whsec_` and the base64 of 24 random bytes, the form Standard Webhooks libraries read."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def _check(values: dict[str, Any]) -> None:
    """The rules a schema cannot know: the catalogue, and what the deployment may reach."""
    errors: dict[str, list[str]] = {}
    if "url" in values:
        config = settings()
        why = check_url(
            values["url"],
            require_https=config.is_production,
            allow_private=config.webhook_allow_private_networks,
        )
        if why:
            errors["url"] = [f"The URL {why}."]
    unknown = [p for p in values.get("enabled_events", ()) if not valid_pattern(p)]
    if unknown:
        errors["enabled_events"] = [f"No event type matches {', '.join(unknown)}."]
    if errors:
        raise Unprocessable("The endpoint breaks a rule; see errors.", errors=errors)


def create_endpoint(values: dict[str, Any]) -> WebhookEndpoint:
    """Register an endpoint; the answer carries its secret, this once."""
    _check(values)
    endpoint_id, secret = new_id("we"), new_secret()
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        secret_sealed=field_cipher().seal(secret, owner=endpoint_id),
        enabled_events=sorted(set(values.pop("enabled_events"))),
        **values,
    )
    db.session.add(endpoint)
    db.session.commit()
    endpoint.secret = secret
    log.info("webhook endpoint %s registered", endpoint.id)
    return endpoint


def endpoint_or_404(endpoint_id: str) -> WebhookEndpoint:
    """The endpoint with this id, or a 404 problem."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("No such webhook endpoint.", code="webhook_endpoint_not_found")
    return endpoint


def list_endpoints(limit: int, cursor: str | None) -> Page:
    """Every endpoint, newest first, one page."""
    return paginate(
        select(WebhookEndpoint),
        Ordering(WebhookEndpoint.created_at, WebhookEndpoint.id),
        list_name="webhook_endpoints", limit=limit, cursor=cursor,
    )  # fmt: skip


def update_endpoint(endpoint_id: str, changes: dict[str, Any]) -> WebhookEndpoint:
    """Change an endpoint; enabling it again (after it was disabled) starts its failures over."""
    endpoint = endpoint_or_404(endpoint_id)
    _check(changes)
    if "enabled_events" in changes:
        changes["enabled_events"] = sorted(set(changes["enabled_events"]))
    if changes.get("enabled") and not endpoint.enabled:
        endpoint.disabled_at = endpoint.failing_since = endpoint.circuit_until = None
        endpoint.failure_streak = 0
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.updated_at = utcnow()
    db.session.commit()
    log.info("webhook endpoint %s updated: %s", endpoint.id, ", ".join(sorted(changes)))
    return endpoint


def delete_endpoint(endpoint_id: str) -> None:
    """Remove an endpoint with its deliveries and their attempts."""
    db.session.delete(endpoint_or_404(endpoint_id))
    db.session.commit()
    log.info("webhook endpoint %s removed", endpoint_id)


def rotate_secret(endpoint_id: str) -> WebhookEndpoint:
    """A new secret, shown once; the current one keeps signing too until the overlap ends."""
    endpoint = endpoint_or_404(endpoint_id)
    secret = new_secret()
    endpoint.previous_secret_sealed = endpoint.secret_sealed
    endpoint.previous_secret_expires_at = utcnow() + timedelta(
        hours=settings().webhook_secret_overlap_hours
    )
    endpoint.secret_sealed = field_cipher().seal(secret, owner=endpoint.id)
    endpoint.updated_at = utcnow()
    db.session.commit()
    endpoint.secret = secret
    log.info("webhook endpoint %s: secret rotated", endpoint.id)
    return endpoint


def signing_secrets(
    endpoint_id: str,
    sealed: str,
    previous: str | None,
    previous_expires_at: datetime | None,
    now: datetime,
) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous in its overlap."""
    cipher = field_cipher()
    found = [cipher.open(sealed, owner=endpoint_id)]
    if previous and previous_expires_at and previous_expires_at > now:
        found.append(cipher.open(previous, owner=endpoint_id))
    return found


def endpoint_summaries() -> list:
    """Every endpoint with its pending and failed delivery counts (for the operator)."""
    counts = (
        select(
            WebhookDelivery.endpoint_id,
            func.count().filter(WebhookDelivery.status == PENDING).label("pending"),
            func.count().filter(WebhookDelivery.status == FAILED).label("failed"),
        )
        .group_by(WebhookDelivery.endpoint_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.enabled,
            WebhookEndpoint.disabled_at, WebhookEndpoint.failing_since,
            func.coalesce(counts.c.pending, 0).label("pending"),
            func.coalesce(counts.c.failed, 0).label("failed"),
        )
        .outerjoin(counts, counts.c.endpoint_id == WebhookEndpoint.id)
        .order_by(WebhookEndpoint.created_at)
    ).all()  # fmt: skip
    db.session.rollback()
    return list(rows)
