"""How personal data is shown: enough to recognise, never enough to use."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    """`13812345678` → `138****5678`."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "*" * len(phone)


def mask_id_number(number: str) -> str:
    """`110101198803141119` → `110***********1119`."""
    return f"{number[:3]}{'*' * (len(number) - 7)}{number[-4:]}" if len(number) > 7 else "*" * 7
