"""Where the mock's blueprints find its store and platform key (kept on the Flask app)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app

from service.mock_idp.store import MockStore

STORE_EXTENSION = "mock_idp"
PLATFORM_KEY_EXTENSION = "mock_idp_platform_key"
COURIER_EXTENSION = "mock_idp_courier"  # the notification delivery thread, stopped by store.close()


def current_store() -> MockStore:
    """The store of the mock app handling this request."""
    return current_app.extensions[STORE_EXTENSION]


def current_platform_key() -> rsa.RSAPrivateKey:
    """The platform private key that signs this mock's responses and notifications."""
    return current_app.extensions[PLATFORM_KEY_EXTENSION]
