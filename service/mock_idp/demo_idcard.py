"""Checks for the demo ID numbers (GB 11643), private to the mock so it shares no identity code."""

from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"
_SHAPE = re.compile(r"^[1-8]\d{16}[\dX]$")

# First two digits of the administrative division code: the provinces of GB/T 2260.
_PROVINCES = (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
              50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82)  # fmt: skip
PROVINCE_CODES = frozenset(str(code) for code in _PROVINCES)


def check_character(first_17_digits: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first_17_digits, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def birth_date(number: str) -> date | None:
    """The birth date encoded in positions 7–14, or None if it is not a real calendar date."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def is_valid_id_number(number: str, *, today: date | None = None) -> bool:
    """Shape, province, a real birth date between 1900 and today, and the check character."""
    if not isinstance(number, str) or not _SHAPE.match(number):
        return False
    if number[:2] not in PROVINCE_CODES:
        return False
    born = birth_date(number)
    if born is None or born.year < 1900 or born > (today or date.today()):
        return False
    return check_character(number[:17]) == number[17]


def gender_of(number: str) -> str:
    """`M` or `F` from the parity of the sequence digit, the way the platform reports gender."""
    return "M" if int(number[16]) % 2 else "F"
