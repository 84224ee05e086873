"""Integer fen ↔ the gateway's yuan strings; the only place such conversions happen."""

from __future__ import annotations

import re

_YUAN = re.compile(r"^(\d{1,12})(?:\.(\d{1,2}))?$")


def fen_to_yuan(fen: int) -> str:
    """`990` → `"9.90"`."""
    if fen < 0:
        raise ValueError("amounts are never negative")
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_to_fen(yuan: str) -> int:
    """`"9.9"` or `"9.90"` → `990`; anything else is a ValueError."""
    match = _YUAN.match(str(yuan).strip())
    if not match:
        raise ValueError(f"not a yuan amount: {yuan!r}")
    whole, cents = match.group(1), (match.group(2) or "0").ljust(2, "0")
    return int(whole) * 100 + int(cents)
