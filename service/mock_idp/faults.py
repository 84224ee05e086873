"""Scripted gateway faults (errors, latency, bad or missing signatures), per method, N times."""

from __future__ import annotations

import re
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any

from service.mock_idp.store import MockStore

KINDS = ("error", "latency", "bad_signature", "unsigned")
ANY_METHOD = "*"
MAX_LATENCY_SECONDS = 120
_CODE_PATTERN = re.compile(r"^[2-4]\d{4}$")


class FaultInvalid(ValueError):
    """A fault description the control API refuses."""


@dataclass(frozen=True)
class Fault:
    """One injected fault; `times_left` None means until cleared."""

    id: int
    method: str
    kind: str
    code: str | None = None
    sub_code: str | None = None
    sub_msg: str | None = None
    seconds: float | None = None
    times_left: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The fault as the control API shows it."""
        return asdict(self)


def validated_fault(data: Any, known_methods: Collection[str]) -> dict[str, Any]:
    """Normalise a fault request (defaults filled in) or raise FaultInvalid."""
    if not isinstance(data, dict):
        raise FaultInvalid("a fault is a JSON object")
    method, kind = data.get("method"), data.get("kind")
    if method != ANY_METHOD and method not in known_methods:
        raise FaultInvalid(f"method must be '*' or one of {sorted(known_methods)}")
    if kind not in KINDS:
        raise FaultInvalid(f"kind must be one of {list(KINDS)}")
    times = data.get("times")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise FaultInvalid("times must be a positive integer (or absent: until cleared)")
    fault = {"method": method, "kind": kind, "times_left": times}
    if kind == "error":
        code = str(data.get("code", "20000"))
        if not _CODE_PATTERN.match(code):
            raise FaultInvalid(
                "code must be a five-digit gateway error code such as 20000 or 40004"
            )
        default_sub_code = "isp.unknow-error" if code == "20000" else "isv.mock-fault"
        fault["code"] = code
        fault["sub_code"] = str(data.get("sub_code") or default_sub_code)
        fault["sub_msg"] = str(data.get("sub_msg") or "模拟的网关故障（mock fault）")
    if kind == "latency":
        seconds = data.get("seconds", 1)
        if not isinstance(seconds, int | float) or not 0 <= seconds <= MAX_LATENCY_SECONDS:
            raise FaultInvalid(f"seconds must be a number from 0 to {MAX_LATENCY_SECONDS}")
        fault["seconds"] = float(seconds)
    return fault


def add_fault(store: MockStore, fault: dict[str, Any]) -> Fault:
    """Store a validated fault; it applies from the next call on."""
    with store.transaction() as db:
        cursor = db.execute(
            "INSERT INTO faults (method, kind, code, sub_code, sub_msg, seconds, times_left,"
            " created_at) VALUES (:method, :kind, :code, :sub_code, :sub_msg, :seconds,"
            " :times_left, :created_at)",
            {"code": None, "sub_code": None, "sub_msg": None, "seconds": None, **fault,
             "created_at": time.time()},
        )  # fmt: skip
    return Fault(id=cursor.lastrowid, **fault)


def list_faults(store: MockStore) -> list[Fault]:
    """The faults still active, oldest first."""
    return [_fault_from_row(row) for row in store.query("SELECT * FROM faults ORDER BY id")]


def clear_faults(store: MockStore) -> int:
    """Remove every fault; returns how many there were."""
    return store.execute("DELETE FROM faults")


def take_faults(store: MockStore, method: str) -> list[Fault]:
    """The faults that apply to this call of `method`, each counted as used once."""
    with store.transaction() as db:
        rows = db.execute(
            "SELECT * FROM faults WHERE method IN (?, ?) ORDER BY id", (method, ANY_METHOD)
        ).fetchall()
        db.execute(
            "UPDATE faults SET times_left = times_left - 1 WHERE method IN (?, ?)"
            " AND times_left IS NOT NULL",
            (method, ANY_METHOD),
        )
        db.execute("DELETE FROM faults WHERE times_left <= 0")
    return [_fault_from_row(row) for row in rows]


def _fault_from_row(row) -> Fault:
    return Fault(
        id=row["id"],
        method=row["method"],
        kind=row["kind"],
        code=row["code"],
        sub_code=row["sub_code"],
        sub_msg=row["sub_msg"],
        seconds=row["seconds"],
        times_left=row["times_left"],
    )
