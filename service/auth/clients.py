"""Merchant clients: creation, the client-credentials grant, and checking a client's token."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from service.auth.models import MerchantClient
from service.auth.scopes import parse_scopes, unknown_scopes
from service.components import components
from service.errors import Forbidden, InvalidRequest, Unauthorized
from service.extensions import db

log = logging.getLogger(__name__)
SECRET_PREFIX = "mcs_"
# Checked against when the client id is unknown, so timing does not reveal which ids exist.
_DUMMY_HASH = generate_password_hash("not-a-secret", method="scrypt")


@dataclass(frozen=True)
class ClientToken:
    access_token: str
    expires_in: int
    scope: str
    token_type: str = "Bearer"


def create_client(name: str, scopes: list[str]) -> tuple[MerchantClient, str]:
    """Register a client; the secret is returned once and only its hash is kept."""
    requested = frozenset(scopes)
    unknown = unknown_scopes(requested)
    if unknown or not requested:
        raise InvalidRequest(
            f"Unknown or missing scopes: {', '.join(unknown) or 'none given'}.",
            code="invalid_scope",
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    client = MerchantClient(
        name=name,
        scopes=" ".join(sorted(requested)),
        secret_hash=generate_password_hash(secret, method="scrypt"),
    )
    db.session.add(client)
    db.session.commit()
    log.info("merchant client %s created with scopes %s", client.id, client.scopes)
    return client, secret


def issue_client_token(client_id: str, client_secret: str, scope: str | None) -> ClientToken:
    """Client-credentials grant: a JWT carrying the requested (or all granted) scopes."""
    client = db.session.get(MerchantClient, client_id) if client_id else None
    secret_ok = check_password_hash(
        client.secret_hash if client else _DUMMY_HASH, client_secret or ""
    )
    if client is None or not secret_ok or client.disabled_at is not None:
        raise Unauthorized("Unknown client or wrong secret.", code="invalid_client")
    requested = parse_scopes(scope) or client.scope_set
    if not requested <= client.scope_set:
        missing = ", ".join(sorted(requested - client.scope_set))
        raise InvalidRequest(f"This client was not granted: {missing}.", code="invalid_scope")
    settings = components().settings
    granted = " ".join(sorted(requested))
    token, _claims = components().token_keys.issue(
        client.id, scope=granted, ttl=settings.client_token_ttl, extra={"client_id": client.id}
    )
    return ClientToken(access_token=token, expires_in=settings.client_token_ttl, scope=granted)


def authenticated_client(claims: dict[str, Any], required: frozenset[str]) -> MerchantClient:
    """The client behind verified claims, if still enabled and holding every required scope."""
    if claims.get("client_id") != claims["sub"] or not claims["sub"].startswith("cli_"):
        raise Unauthorized(
            "This endpoint needs a merchant client's token.", code="client_token_required"
        )
    client = db.session.scalars(
        select(MerchantClient).where(MerchantClient.id == claims["sub"])
    ).first()
    if client is None or client.disabled_at is not None:
        raise Unauthorized("This client is no longer enabled.", code="invalid_client")
    missing = required - parse_scopes(claims.get("scope"))
    if missing:
        raise Forbidden(
            f"The token lacks the scope(s): {', '.join(sorted(missing))}.",
            code="insufficient_scope",
        )
    return client
