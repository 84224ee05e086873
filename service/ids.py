"""Opaque, prefixed, random identifiers for everything that appears on the wire."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789abcdefghijkmnopqrstuvwxyz"  # no 'l', to keep ids readable aloud
_BASE = len(_ALPHABET)
# Each random byte below 245 (7 × 35) names a character, seven bytes per character, so every
# character is exactly as likely as any other; the 11 bytes above are dropped.
_ACCEPTED = _BASE * (256 // _BASE)
_SPELLING = bytes(ord(_ALPHABET[b % _BASE]) if b < _ACCEPTED else 0 for b in range(256))
_DROPPED = bytes(range(_ACCEPTED, 256))
_SPARE = 8  # extra bytes per read: fewer than `length` survive about once in a million reads


def new_id(prefix: str, length: int = 20) -> str:
    """`usr_4k9…`: about 100 bits of randomness, so ids can be neither guessed nor enumerated.

    One read of the system's random source per id, spelled by `bytes.translate` (a divmod per
    character, or a read per character, showed in the gift scheduler's profile: every event
    and voucher of a sending batch takes an id). A read with too few accepted bytes is drawn
    again, so the spelling stays exactly uniform.
    """
    while True:
        spelled = secrets.token_bytes(length + _SPARE).translate(_SPELLING, _DROPPED)
        if len(spelled) >= length:
            return f"{prefix}_{spelled[:length].decode('ascii')}"
