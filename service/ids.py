"""Opaque, prefixed, random identifiers for everything that appears on the wire."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789abcdefghijkmnopqrstuvwxyz"  # no 'l', to keep ids readable aloud
_BASE = len(_ALPHABET)


def new_id(prefix: str, length: int = 20) -> str:
    """`usr_4k9…`: about 100 bits of randomness, so ids can be neither guessed nor enumerated.

    One read of the system's random source per id, spelled in base 35 (choosing each character
    separately costs a read per character, which showed in the gift scheduler's profile). The
    number has 64 more bits than the id can spell, so every id is as likely as any other to
    within 2^-64.
    """
    number = int.from_bytes(secrets.token_bytes((length * 52 // 10 + 64) // 8 + 1))
    chars = []
    for _ in range(length):
        number, digit = divmod(number, _BASE)
        chars.append(_ALPHABET[digit])
    return f"{prefix}_" + "".join(chars)
