"""The rules a resident ID number (GB 11643) and a real name must meet before the gateway sees them.

Checking locally first spares the user a face scan that can only fail, spares the merchant a paid
gateway call, and lets every refusal carry its own stable code (a legacy 15-digit number is told
apart from a typo in the check character). Pure functions: no database, no Flask.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
_LEGACY_SHAPE = re.compile(r"^[0-9]{15}$")
EARLIEST_BIRTH_YEAR = 1900
ADULT_AGE = 18

# First two digits of the administrative division code (GB/T 2260): the provinces, the
# autonomous regions, the municipalities, Taiwan, Hong Kong and Macau.
_PROVINCES = (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
              50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82)  # fmt: skip
PROVINCE_CODES = frozenset(str(code) for code in _PROVINCES)

CHINA = ZoneInfo("Asia/Shanghai")
NAME_MIN, NAME_MAX = 2, 30
MIDDLE_DOT = "\u00b7"
# Dots people type for the separator in transliterated names (Uyghur, Tibetan, foreign-born):
# the full-width and katakana middle dots and the bullet all mean the same thing.
_DOT_VARIANTS = {"\u30fb": MIDDLE_DOT, "\uff65": MIDDLE_DOT, "\u2022": MIDDLE_DOT,
                 "\u2027": MIDDLE_DOT, "\u16eb": MIDDLE_DOT}  # fmt: skip


class IdentityRuleError(ValueError):
    """A value that breaks a rule; `code` is the problem code the API answers with."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IdNumber:
    """A checked 18-character resident ID number and what it encodes."""

    value: str
    birth_date: date

    def age_on(self, day: date) -> int:
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def is_adult_on(self, day: date) -> bool:
        return self.age_on(day) >= ADULT_AGE


def china_today() -> date:
    """Today's date in China, the calendar birth dates on ID cards are written in."""
    return datetime.now(CHINA).date()


def check_character(first_17_digits: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first_17_digits, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def _birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def parse_id_number(raw: str, *, today: date) -> IdNumber:
    """The number, upper-cased, if it is a valid 18-character resident ID; else IdentityRuleError.

    `today` is the calendar date in China (birth dates on ID cards are Beijing dates).
    """
    number = raw.strip().upper()
    if _LEGACY_SHAPE.match(number):
        raise IdentityRuleError(
            "id_number_legacy",
            "15-digit ID numbers were replaced in 2004; enter the 18-character number.",
        )
    if not _SHAPE.match(number):
        raise IdentityRuleError(
            "id_number_malformed", "An ID number is 17 digits followed by a digit or X."
        )
    if number[:2] not in PROVINCE_CODES:
        raise IdentityRuleError(
            "id_number_region", "The first digits are not a region code in use."
        )
    born = _birth_date(number)
    if born is None or born.year < EARLIEST_BIRTH_YEAR or born > today:
        raise IdentityRuleError(
            "id_number_birth_date", "The birth date in the ID number is not a possible one."
        )
    if check_character(number[:17]) != number[17]:
        raise IdentityRuleError(
            "id_number_check_character",
            "The last character does not match the others; check the number for a typo.",
        )
    return IdNumber(number, born)


def _is_han(character: str) -> bool:
    # CJK ideographs in every block (unified, extensions, compatibility) are named "CJK ...".
    return (
        unicodedata.name(character, "").startswith("CJK ")
        and unicodedata.category(character) == "Lo"
    )


def normalize_name(raw: str) -> str:
    """The name as it is printed on the ID card, or IdentityRuleError.

    2–30 Chinese characters; transliterated names may separate their parts with one middle dot
    (`阿依古丽·买买提`). Surrounding spaces are dropped and dot look-alikes become U+00B7.
    """
    name = unicodedata.normalize("NFC", raw.strip())
    name = "".join(_DOT_VARIANTS.get(c, c) for c in name)
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise IdentityRuleError(
            "name_length", f"A name is {NAME_MIN} to {NAME_MAX} characters long."
        )
    parts = name.split(MIDDLE_DOT)
    if any(not part or not all(_is_han(c) for c in part) for part in parts):
        raise IdentityRuleError(
            "name_characters",
            "Enter the name in Chinese characters as on the ID card; parts may be separated "
            "by a single middle dot (·).",
        )
    return name
