"""Scripted gateway faults (errors, latency, bad or missing signatures), per method, N times.

A fault acts *instead of* the method (the default: an injected error means nothing happened,
latency delays the call) or, with `"after": true`, *after* it: the method does its work and
commits, and then the answer is lost: an error answered in place of the success (any code and
sub_code, e.g. `ACQ.SYSTEM_ERROR` or `20000`), or latency beyond the client's timeout. Signature
faults always spoil the answer of a call that acted. A resend then meets the method's own
repeat answer (a repeated `alipay.trade.pay` is `ACQ.TRADE_HAS_SUCCESS`, as on the platform).
A `fields` fault lets the method act and then changes fields of its (signed) success answer,
e.g. a split whose `credit_amount + fund_amount` is not the amount, so a client's checks of
what the platform reports can be tried. A `pause` fault holds the call before it acts until
`POST /_mock/faults/<id>/resume` (or `seconds` pass), so a test can put another call exactly
between a request's arrival and its effect; its gate lives in the mock's process.
Wire faults (`reset`, `trickle`, `oversize`, `html`, `not_json`, `wrong_method`, see
`wire_faults`) let the method act and then spoil its answer on the wire, as a broken network,
a proxy or a confused gateway would; `trickle` takes `seconds` as the pause between bytes.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any, cast

from service.mock_idp.protocol import GatewayError
from service.mock_idp.store import MockStore
from service.mock_idp.wire_faults import DEFAULT_TRICKLE_SECONDS
from service.mock_idp.wire_faults import KINDS as WIRE_KINDS

KINDS = ("error", "latency", "bad_signature", "unsigned", "fields", "pause", *WIRE_KINDS)
ANY_METHOD = "*"
MAX_LATENCY_SECONDS = 120
_CODE_PATTERN = re.compile(r"^[1-4]\d{4}$")  # 10003 (processing) too; 10000 is no fault


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
    after: bool = False
    fields: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        """The fault as the control API shows it."""
        return asdict(self)

    def gateway_error(self) -> GatewayError:
        """What an `error` fault answers (`validated_fault` gives every one its three texts)."""
        return GatewayError(self.code or "", self.sub_code or "", self.sub_msg or "")


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
    after = data.get("after", False)
    if not isinstance(after, bool):
        raise FaultInvalid("after must be true (act, then lose the answer) or false")
    fault = {"method": method, "kind": kind, "times_left": times, "after": after}
    if kind == "error":
        code = str(data.get("code", "20000"))
        if not _CODE_PATTERN.match(code) or code == "10000":
            raise FaultInvalid(
                "code must be a five-digit gateway answer other than 10000, such as 10003,"
                " 20000 or 40004"
            )
        default_sub_code = "isp.unknow-error" if code == "20000" else "isv.mock-fault"
        fault["code"] = code
        fault["sub_code"] = str(data.get("sub_code") or default_sub_code)
        fault["sub_msg"] = str(data.get("sub_msg") or "模拟的网关故障（mock fault）")
    if kind == "fields":
        fields = data.get("fields")
        if not isinstance(fields, dict) or not fields or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in fields.items()
        ):
            raise FaultInvalid("fields must be a non-empty object of string values")
        fault["fields"] = fields
        fault["after"] = True
    if kind in WIRE_KINDS:
        fault["after"] = True
    if kind in ("latency", "pause", "trickle"):
        default = {"latency": 1, "pause": 10, "trickle": DEFAULT_TRICKLE_SECONDS}[kind]
        seconds = data.get("seconds", default)
        if not isinstance(seconds, int | float) or not 0 <= seconds <= MAX_LATENCY_SECONDS:
            raise FaultInvalid(f"seconds must be a number from 0 to {MAX_LATENCY_SECONDS}")
        fault["seconds"] = float(seconds)
    return fault


def add_fault(store: MockStore, fault: dict[str, Any]) -> Fault:
    """Store a validated fault; it applies from the next call on."""
    with store.transaction() as db:
        cursor = db.execute(
            "INSERT INTO faults (method, kind, code, sub_code, sub_msg, seconds, times_left,"
            " created_at, after_acting, fields) VALUES (:method, :kind, :code, :sub_code,"
            " :sub_msg, :seconds, :times_left, :created_at, :after_acting, :fields_json)",
            {"code": None, "sub_code": None, "sub_msg": None, "seconds": None, **fault,
             "created_at": time.time(), "after_acting": int(fault.get("after", False)),
             "fields_json": json.dumps(fault["fields"]) if fault.get("fields") else None},
        )  # fmt: skip
    return Fault(id=cast(int, cursor.lastrowid), **fault)  # set after an INSERT


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
        after=bool(row["after_acting"]),
        fields=json.loads(row["fields"]) if row["fields"] else None,
    )


def wire_fault(faults: list[Fault]) -> Fault | None:
    """The first fault that spoils the answer on the wire, if any."""
    return next((fault for fault in faults if fault.kind in WIRE_KINDS), None)


def apply_before(faults: list[Fault]) -> tuple[str | None, list[Fault]]:
    """Run what acts instead of the method; returns the signature effect and the `after` faults.

    Latency first, then the signature effect (`corrupt` or `none`), then an injected error,
    which answers instead of the method (nothing happens).
    """
    before = [fault for fault in faults if not fault.after]
    for fault in before:
        if fault.kind == "latency":
            time.sleep(fault.seconds or 0)
        elif fault.kind == "pause":
            _gate(fault.id).wait(fault.seconds)
    signature = None
    for fault in faults:
        if fault.kind == "bad_signature":
            signature = "corrupt"
        elif fault.kind == "unsigned":
            signature = "none"
    for fault in before:
        if fault.kind == "error":
            raise fault.gateway_error()
    return signature, [fault for fault in faults if fault.after]


def apply_after(faults: list[Fault], inner: dict[str, Any]) -> dict[str, Any]:
    """The method acted; now change its answer's fields, or lose the answer: wait (past the
    client's timeout), or answer an error in its place."""
    for fault in faults:
        if fault.kind == "fields":
            inner = {**inner, **(fault.fields or {})}
    for fault in faults:
        if fault.kind == "latency":
            time.sleep(fault.seconds or 0)
    for fault in faults:
        if fault.kind == "error":
            raise fault.gateway_error()
    return inner


_gates: dict[int, threading.Event] = {}
_gates_lock = threading.Lock()


def _gate(fault_id: int) -> threading.Event:
    with _gates_lock:
        return _gates.setdefault(fault_id, threading.Event())


def resume(fault_id: int) -> None:
    """Let the call a `pause` fault holds go on (or, if it has not come yet, not wait at all)."""
    _gate(fault_id).set()
