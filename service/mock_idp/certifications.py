"""Face verifications as the platform keeps them: initialized by a merchant, finished by a scan.

A certification names a person (`cert_name`, `cert_no`). It can only pass when they are one of
the mock's users, by both name and number: anything else fails with an identity mismatch, whatever
the face-scan page is told. Whether a matching user's scan passes comes from their profile's
`face` (see demo_users.py). The control API may force any outcome: it is a test hook.

A `certify_id` can be used on the face-scan page for `certify_ttl` seconds (23 hours on the
platform) and queried afterwards. Finishing is a conditional update, so two racing finishes (two
tabs, a tab and the control API) cannot both win.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from service.mock_idp.protocol import BusinessRefusal
from service.mock_idp.store import MockStore
from service.mock_idp.store_tables import register_table

RESERVE, NEVER = "reserve", "never"
FACE_NOT_MATCH = "人脸比对不一致（FACE_NOT_MATCH）"
IDENTITY_NOT_MATCH = "姓名与身份证号不一致（IDENTITY_NOT_MATCH）"
IDENTITY_NOT_FOUND = "未查询到该身份信息（IDENTITY_NOT_FOUND）"
# What a tester may pick on the face-scan page when failing a scan on purpose.
FAIL_REASONS = (
    FACE_NOT_MATCH,
    "活体检测未通过（LIVENESS_FAILED）",
    "人脸质量不佳，请在光线充足处重试（FACE_QUALITY_LOW）",
    "认证超时（TIMEOUT）",
)

register_table(
    "certifications",
    """CREATE TABLE IF NOT EXISTS certifications (
        certify_id TEXT PRIMARY KEY, app_id TEXT NOT NULL, outer_order_no TEXT NOT NULL,
        biz_code TEXT NOT NULL, cert_name TEXT NOT NULL, cert_no TEXT NOT NULL,
        return_url TEXT NOT NULL, face_reserve_strategy TEXT NOT NULL, user_id TEXT,
        created_at REAL NOT NULL, expires_at REAL NOT NULL, finished_at REAL,
        passed INTEGER, fail_reason TEXT, UNIQUE (app_id, outer_order_no))""",
)


class CertificationRefused(BusinessRefusal):
    """A certification's business failure, answered as 40004 with the platform's sub_code."""


def illegal_argument(message: str, *, missing: bool = False) -> CertificationRefused:
    """A missing, malformed or out-of-range business parameter, as the platform answers it."""
    return CertificationRefused("ILLEGAL_ARGUMENT_FORMAT", "参数异常：" + message)


@dataclass(frozen=True)
class CertificationRequest:
    """What `alipay.user.certify.open.initialize` asks for, already checked for shape."""

    app_id: str
    outer_order_no: str
    biz_code: str
    cert_name: str
    cert_no: str
    return_url: str
    face_reserve_strategy: str = RESERVE

    def same_content(self, other: Certification) -> bool:
        """Whether a repeated `outer_order_no` carries what the first request did."""
        return all(getattr(self, name) == getattr(other, name) for name in _CONTENT)


_CONTENT = ("biz_code", "cert_name", "cert_no", "return_url", "face_reserve_strategy")


@dataclass(frozen=True, kw_only=True)
class Certification(CertificationRequest):
    """One certification row: the request, the user it names, times (epoch), the outcome."""

    certify_id: str
    user_id: str | None
    created_at: float
    expires_at: float
    finished_at: float | None = None
    passed: bool | None = None
    fail_reason: str | None = None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def to_json(self) -> dict[str, Any]:
        """The certification as the control API shows it."""
        shown = asdict(self)
        for name in ("created_at", "expires_at", "finished_at"):
            shown[name] = _iso(shown[name])
        shown["state"] = "PASSED" if self.passed else "FAILED" if self.finished else "INIT"
        return shown


@dataclass(frozen=True)
class Outcome:
    """How a scan ends: passed, or failed with the reason the platform gives."""

    passed: bool
    fail_reason: str | None = None


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


def new_certify_id() -> str:
    """32 lowercase hex characters, the platform's shape."""
    return secrets.token_hex(16)


def matching_user(store: MockStore, cert_name: str, cert_no: str) -> tuple[str | None, str | None]:
    """The user this name and number identify, or why none does: (user_id, mismatch reason)."""
    holders = [user for user in store.list_users() if user.get("cert_no") == cert_no]
    if not holders:
        return None, IDENTITY_NOT_FOUND
    for user in holders:
        if user.get("user_name") == cert_name:
            return user["user_id"], None
    return None, IDENTITY_NOT_MATCH


def create_certification(store: MockStore, request: CertificationRequest, now: float) -> str:
    """A new certification's id, or the same id again for a repeated identical request."""
    user_id, _reason = matching_user(store, request.cert_name, request.cert_no)
    ttl = float(store.settings()["certify_ttl"])
    with store.transaction() as db:
        row = db.execute(
            "SELECT * FROM certifications WHERE app_id = ? AND outer_order_no = ?",
            (request.app_id, request.outer_order_no),
        ).fetchone()
        if row is not None:
            if not request.same_content(_certification(row)):
                raise CertificationRefused(
                    "OUTER_ORDER_NO_REPEAT", "outer_order_no 已使用，且请求内容与首次不一致"
                )
            return row["certify_id"]
        certify_id = new_certify_id()
        db.execute(
            "INSERT INTO certifications (certify_id, app_id, outer_order_no, biz_code, cert_name,"
            " cert_no, return_url, face_reserve_strategy, user_id, created_at, expires_at)"
            " VALUES (:certify_id, :app_id, :outer_order_no, :biz_code, :cert_name, :cert_no,"
            " :return_url, :face_reserve_strategy, :user_id, :created_at, :expires_at)",
            {
                **asdict(request),
                "certify_id": certify_id,
                "user_id": user_id,
                "created_at": now,
                "expires_at": now + ttl,
            },
        )
    return certify_id


def get_certification(store: MockStore, certify_id: str) -> Certification | None:
    """Any app's certification by id, or None."""
    row = store.query_one("SELECT * FROM certifications WHERE certify_id = ?", (certify_id,))
    return _certification(row) if row else None


def find_certification(store: MockStore, app_id: str, certify_id: str) -> Certification:
    """The app's own certification; `OPEN_CERTIFY_BILL_NOT_EXIST` for any other id."""
    found = get_certification(store, certify_id)
    if found is None or found.app_id != app_id:
        raise CertificationRefused("OPEN_CERTIFY_BILL_NOT_EXIST", "无效的certify_id")
    return found


def scan_outcome(store: MockStore, certification: Certification) -> Outcome:
    """What the face scan yields: a mismatch always fails, else the user's `face` decides."""
    user_id, mismatch = matching_user(store, certification.cert_name, certification.cert_no)
    if mismatch is not None:
        return Outcome(False, mismatch)
    face = (store.get_user(user_id) or {}).get("face") or {"outcome": "pass"}
    if face["outcome"] == "pass":
        return Outcome(True)
    return Outcome(False, face.get("reason") or FACE_NOT_MATCH)


def chosen_failure(store: MockStore, certification: Certification, reason: str) -> Outcome:
    """A scan failed on purpose; a mismatching identity still fails with its own reason."""
    _user_id, mismatch = matching_user(store, certification.cert_name, certification.cert_no)
    return Outcome(False, mismatch or reason or FACE_NOT_MATCH)


def finish_certification(
    store: MockStore, certify_id: str, outcome: Outcome, now: float
) -> Certification | None:
    """Record the outcome once; None when it was already finished (the first finish stands)."""
    with store.transaction() as db:
        changed = db.execute(
            "UPDATE certifications SET finished_at = ?, passed = ?, fail_reason = ?"
            " WHERE certify_id = ? AND finished_at IS NULL",
            (now, int(outcome.passed), None if outcome.passed else outcome.fail_reason, certify_id),
        ).rowcount
        row = db.execute(
            "SELECT * FROM certifications WHERE certify_id = ?", (certify_id,)
        ).fetchone()
    return _certification(row) if changed == 1 else None


def query_fields(certification: Certification) -> dict[str, Any]:
    """`alipay.user.certify.open.query`'s business fields.

    `passed` is `F` until finished; a failure carries `fail_reason`. `identity_info` and
    `material_info` are JSON strings, `{}` in the usual case as on the platform. When the person
    agreed to have their face kept (`face_reserve_strategy=reserve`) and a scan was made, the
    mock puts a marker where the platform would list the kept photo; it never holds an image,
    and with `never` there is no face material at all.
    """
    material: dict[str, str] = {}
    if certification.finished and certification.face_reserve_strategy == RESERVE:
        material["face_reserved"] = "T"
    fields: dict[str, Any] = {"passed": "T" if certification.passed else "F"}
    if certification.finished and not certification.passed:
        fields["fail_reason"] = certification.fail_reason or FACE_NOT_MATCH
    fields["identity_info"] = json.dumps({}, separators=(",", ":"))
    fields["material_info"] = json.dumps(material, separators=(",", ":"))
    return fields


def _certification(row: sqlite3.Row) -> Certification:
    values = {key: row[key] for key in row.keys()}  # noqa: SIM118 - sqlite3.Row
    values["passed"] = None if values["passed"] is None else bool(values["passed"])
    return Certification(**values)
