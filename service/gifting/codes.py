"""Voucher codes: random, unguessable, typed by people, with a check character.

Codes use Crockford's base32 (no I, L, O, U, so nothing reads as another character) and end in
Crockford's mod-37 check symbol, so a mistyped code is caught before any lookup.
"""

from __future__ import annotations

import base64
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_SYMBOLS = ALPHABET + "*~$=U"
BODY_LENGTH = 16  # 80 random bits
# RFC 4648 base32 spells 5 bits a character as Crockford does, in another alphabet.
_FROM_RFC4648 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)


def _check_symbol(body: str) -> str:
    value = 0
    for char in body:
        value = value * 32 + ALPHABET.index(char)
    return CHECK_SYMBOLS[value % 37]


def new_code() -> str:
    """A fresh code: 16 random characters (80 random bits, read at once) and a check symbol.

    The check symbol is the 80-bit number modulo 37, which is what `_check_symbol` computes
    from the characters.
    """
    raw = secrets.token_bytes(BODY_LENGTH * 5 // 8)
    body = base64.b32encode(raw).decode("ascii").translate(_FROM_RFC4648)
    return body + CHECK_SYMBOLS[int.from_bytes(raw) % 37]


def normalise(text: str) -> str:
    """What people type → the canonical code: upper case, no spaces or dashes, O→0, I/L→1."""
    cleaned = text.strip().upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans("OIL", "011"))


def is_well_formed(code: str) -> bool:
    """Right length, right alphabet, right check symbol."""
    body, check = code[:-1], code[-1:]
    return (
        len(body) == BODY_LENGTH
        and all(char in ALPHABET for char in body)
        and check == _check_symbol(body)
    )
