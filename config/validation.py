"""Refuse settings that would be unsafe for the chosen profile, one line naming the variable."""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import urlsplit

from config.keys import KeyFormatError, is_dev_key, load_private_key, load_public_key
from config.settings import ConfigError, Settings

_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}  # noqa: S104 (a name, not a bind)


def validate(settings: Settings) -> None:
    """Raise ConfigError for the first unacceptable setting."""
    _check_aes_key(settings.app_aes_key)
    if not settings.is_production:
        return
    if not settings.app_private_key:
        raise ConfigError("MINIFIN_APP_PRIVATE_KEY: required in production (or _FILE)")
    if not settings.seller_id:
        raise ConfigError("MINIFIN_SELLER_ID: required in production (the merchant's 2088… id)")
    if is_dev_key(settings.app_private_key):
        raise ConfigError("MINIFIN_APP_PRIVATE_KEY: is a development key made by `minifin dev`")
    _one_key_mode(settings)
    try:
        load_private_key(settings.app_private_key)
    except KeyFormatError as exc:
        raise ConfigError(f"MINIFIN_APP_PRIVATE_KEY: {exc}") from exc
    if settings.platform_public_key:
        try:
            load_public_key(settings.platform_public_key)
        except KeyFormatError as exc:
            raise ConfigError(f"MINIFIN_PLATFORM_PUBLIC_KEY: {exc}") from exc
    if settings.webhook_allow_private_networks:
        raise ConfigError(
            "MINIFIN_WEBHOOK_ALLOW_PRIVATE_NETWORKS: production never delivers webhooks to "
            "loopback or private addresses"
        )
    gateway = urlsplit(settings.gateway_url)
    if gateway.scheme != "https" or (gateway.hostname or "") in _LOOPBACK_HOSTS:
        raise ConfigError(
            "MINIFIN_GATEWAY_URL: production needs the platform's https gateway, not the mock"
        )
    if not settings.keys_file.exists():
        raise ConfigError(f"MINIFIN_KEYS_FILE: {settings.keys_file} does not exist")
    try:
        keys = json.loads(settings.keys_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"MINIFIN_KEYS_FILE: cannot read {settings.keys_file}") from exc
    if keys.get("dev"):
        raise ConfigError("MINIFIN_KEYS_FILE: holds development keys made by `minifin dev`")


_CERTIFICATE_SETTINGS = ("app_cert", "platform_cert", "platform_root_cert")


def _one_key_mode(settings: Settings) -> None:
    """Production runs in exactly one mode: the platform's public key, or all three certificates.

    A half configuration (some certificates) or a mixed one (certificates and a public key) is
    refused, since the platform signs in one mode only and guessing would hide the mistake.
    What the certificates contain is checked when the gateway client loads them.
    """
    given = [name for name in _CERTIFICATE_SETTINGS if getattr(settings, name)]
    if not given:
        if not settings.platform_public_key:
            raise ConfigError("MINIFIN_PLATFORM_PUBLIC_KEY: required in production (or _FILE)")
        return
    missing = [f"MINIFIN_{name.upper()}" for name in _CERTIFICATE_SETTINGS if name not in given]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)}: required in certificate mode (or _FILE); "
            "set all three certificate files, or none for key mode"
        )
    if settings.platform_public_key:
        raise ConfigError(
            "MINIFIN_PLATFORM_PUBLIC_KEY: set in certificate mode; unset it (the platform's "
            "key comes from MINIFIN_PLATFORM_CERT)"
        )


def _check_aes_key(text: str | None) -> None:
    """The console's AES key is base64 of 16 bytes; anything else would fail every call."""
    if not text:
        return
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("MINIFIN_APP_AES_KEY: is not base64 (or _FILE)") from None
    if len(raw) != 16:
        raise ConfigError(f"MINIFIN_APP_AES_KEY: is {len(raw) * 8} bits; the platform's is 128")
