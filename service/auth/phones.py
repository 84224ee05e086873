"""Mobile numbers as blind indexes: one normalisation for gift orders and for logins.

A gift addressed to a phone number and the mobile a platform profile reports must give the same
digest, so both go through `phone_index`. The number itself is never stored.
"""

from __future__ import annotations

import re

from service.components import blind_index

_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-()]")


def normalised_phone(text: str) -> str | None:
    """`+86 138-1234-5678` → `13812345678`; None for anything not a mainland China mobile."""
    digits = _SEPARATORS.sub("", text or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    return digits if _MAINLAND_MOBILE.match(digits) else None


def phone_index(phone: str) -> str | None:
    """The keyed digest that recognises this mobile number, or None if it is not one."""
    number = normalised_phone(phone)
    return blind_index().digest("phone", number) if number else None
