"""Opaque refresh-token values: random at login, derived on rotation, stored only as hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "mrt_"


def new_token() -> str:
    """A fresh 256-bit token for a new login."""
    return PREFIX + secrets.token_urlsafe(32)


def successor(token: str, secret: bytes) -> str:
    """The token that replaces `token` on rotation.

    Derived with a server-only key, so repeating a refresh within the grace window yields the
    same successor without storing it, while a thief holding an old token cannot compute it.
    """
    digest = hmac.new(secret, token.encode("utf-8"), hashlib.sha256).digest()
    return PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def token_hash(token: str) -> str:
    """What the database keeps: SHA-256 is enough for 256-bit random values."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
