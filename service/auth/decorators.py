"""Route decorators: "a logged-in user" and "a merchant client with these scopes".

They read the bearer token, verify it, and put the principal on `flask.g`; the OpenAPI document
learns each route's security from them, so docs and enforcement cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request
from flask_smorest import Blueprint

from service.auth.clients import authenticated_client
from service.auth.services import authenticated_user
from service.auth.tokens import InvalidToken
from service.components import token_keys
from service.errors import Unauthorized

_MESSAGES = {
    "token_expired": "The access token has expired; refresh it.",
    "token_not_yet_valid": "The access token is not valid yet.",
}


def bearer_claims() -> dict[str, Any]:
    """Verified claims of the request's bearer token, or a 401 problem."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send an access token as `Authorization: Bearer …`.")
    try:
        return token_keys().verify(token.strip())
    except InvalidToken as exc:
        raise Unauthorized(
            _MESSAGES.get(exc.reason, "The access token is not valid."), code=exc.reason
        ) from exc


def user_required(view: Callable) -> Callable:
    """Require a user's access token with a live session.

    Sets `g.user` (a read-only row of the users table; pass `g.user.id` to services) and
    `g.session_id`.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        claims = bearer_claims()
        g.user = authenticated_user(claims)
        g.session_id = claims["sid"]
        return view(*args, **kwargs)

    return Blueprint.doc(security=[{"userToken": []}])(wrapper)


def client_required(*scopes: str) -> Callable[[Callable], Callable]:
    """Require a merchant client's token holding every scope named; sets g.client."""
    required = frozenset(scopes)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            g.client = authenticated_client(bearer_claims(), required)
            return view(*args, **kwargs)

        return Blueprint.doc(security=[{"clientToken": list(scopes)}])(wrapper)

    return decorator


def user_or_client_required(*scopes: str) -> Callable[[Callable], Callable]:
    """Require a user's token, or a merchant client's holding every scope named.

    Sets g.user or g.client (the other None): for routes a user calls about themselves and a
    merchant back office calls about any user.
    """
    required = frozenset(scopes)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            claims = bearer_claims()
            if str(claims["sub"]).startswith("cli_"):
                g.user, g.client = None, authenticated_client(claims, required)
            else:
                g.user, g.client = authenticated_user(claims), None
                g.session_id = claims["sid"]
            return view(*args, **kwargs)

        security = [{"userToken": []}, {"clientToken": list(scopes)}]
        return Blueprint.doc(security=security)(wrapper)

    return decorator


# Any logged-in user or any merchant client, whatever its scopes.
principal_required = user_or_client_required()
