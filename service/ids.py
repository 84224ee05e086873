"""Opaque, prefixed, random identifiers for everything that appears on the wire."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789abcdefghijkmnopqrstuvwxyz"  # no 'l', to keep ids readable aloud


def new_id(prefix: str, length: int = 20) -> str:
    """`usr_4k9…`: about 100 bits of randomness, so ids can be neither guessed nor enumerated."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))
