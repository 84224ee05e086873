"""Demo users: loading the shipped data file and validating profiles added over the control API.

A profile's `face` decides how that person's face scan ends on the mock's face-scan page:
`{"outcome": "pass"}` (the default), or `{"outcome": "fail", "reason": "…"}`, where the reason is
what `alipay.user.certify.open.query` reports as `fail_reason`. The shipped data has two such
users: 胡斌 (face does not match) and 何雨桐 (liveness check failed). A certification only passes
for a name and ID number that belong to one user; see certifications.py.
"""

from __future__ import annotations

import json
import re
import secrets
from importlib import resources
from typing import Any, TypeGuard

from service.gateway.money import fen_to_yuan
from service.mock_idp.demo_idcard import gender_of, is_valid_id_number

USER_ID_PATTERN = re.compile(r"^2088\d{12}$")
_MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
FACE_OUTCOMES = ("pass", "fail")
_STRING_FIELDS = (
    "user_name",
    "nick_name",
    "province",
    "city",
    "avatar",
    "user_type",
    "user_status",
)
ALLOWED_FIELDS = frozenset(
    (
        *_STRING_FIELDS,
        "user_id",
        "cert_type",
        "cert_no",
        "gender",
        "mobile",
        "is_certified",
        "credit",
        "balance_fen",
        "face",
    )
)


class UserInvalid(ValueError):
    """A user profile that the mock refuses to store; the message says which field and why."""


def load_demo_users() -> list[dict[str, Any]]:
    """The validated demo users shipped in `data/demo_users.json`."""
    text = resources.files("service.mock_idp").joinpath("data/demo_users.json").read_text("utf-8")
    return [validated_user(entry) for entry in json.loads(text)["users"]]


def new_user_id() -> str:
    """A random `2088` + 12 digits id, the platform's shape for a user."""
    return "2088" + "".join(secrets.choice("0123456789") for _ in range(12))


def validated_user(data: Any) -> dict[str, Any]:
    """Return a complete, normalised profile (defaults filled in) or raise UserInvalid."""
    if not isinstance(data, dict):
        raise UserInvalid("a user is a JSON object")
    unknown = sorted(set(data) - ALLOWED_FIELDS)
    if unknown:
        raise UserInvalid(f"unknown fields {unknown}; allowed: {sorted(ALLOWED_FIELDS)}")
    user = dict(data)
    user_id = user.setdefault("user_id", new_user_id())
    if not isinstance(user_id, str) or not USER_ID_PATTERN.match(user_id):
        raise UserInvalid("user_id must be 2088 followed by 12 digits")
    for field in _STRING_FIELDS:
        if field in user and not isinstance(user[field], str):
            raise UserInvalid(f"{field} must be a string")
    if not user.get("user_name", "").strip():
        raise UserInvalid("user_name is required")
    user.setdefault("nick_name", user["user_name"])
    _check_identity(user)
    if "mobile" in user and not (
        isinstance(user["mobile"], str) and _MOBILE_PATTERN.match(user["mobile"])
    ):
        raise UserInvalid("mobile must be 11 digits starting with 1")
    user.setdefault("avatar", f"/avatars/{user_id}.svg")
    user.setdefault("province", "")
    user.setdefault("city", "")
    user.setdefault("user_type", "2")
    user.setdefault("user_status", "T")
    user["credit"] = validated_credit(user.get("credit", {}))
    user["face"] = _validated_face(user.get("face", {"outcome": "pass"}))
    balance = user.setdefault("balance_fen", 0)
    if not _is_int(balance) or balance < 0:
        raise UserInvalid("balance_fen must be a non-negative integer")
    return user


def _check_identity(user: dict[str, Any]) -> None:
    cert_no = user.get("cert_no")
    if cert_no is not None:
        if not is_valid_id_number(cert_no):
            raise UserInvalid("cert_no must be a valid 18-character resident ID number")
        user.setdefault("gender", gender_of(cert_no))
    user.setdefault("cert_type", "IDENTITY_CARD")
    if user["cert_type"] != "IDENTITY_CARD":
        raise UserInvalid("cert_type must be IDENTITY_CARD")
    user.setdefault("is_certified", cert_no is not None)
    if not isinstance(user["is_certified"], bool):
        raise UserInvalid("is_certified must be true or false")
    if user["is_certified"] and cert_no is None:
        raise UserInvalid("a certified user needs a cert_no")
    if user.setdefault("gender", "") not in ("M", "F", ""):
        raise UserInvalid("gender must be M or F")


def validated_credit(credit: Any) -> dict[str, Any]:
    """A complete credit profile (score, waiver limit, evaluable) or UserInvalid."""
    if not isinstance(credit, dict) or set(credit) - {"zm_score", "waiver_limit_fen", "evaluable"}:
        raise UserInvalid("credit holds only zm_score, waiver_limit_fen and evaluable")
    evaluable = credit.get("evaluable", True)
    if not isinstance(evaluable, bool):
        raise UserInvalid("credit.evaluable must be true or false")
    score = credit.get("zm_score", 650 if evaluable else None)
    if evaluable and not (_is_int(score) and 350 <= score <= 950):
        raise UserInvalid("credit.zm_score must be an integer from 350 to 950")
    if not evaluable and score is not None:
        raise UserInvalid("a user who cannot be evaluated has no zm_score")
    waiver = credit.get("waiver_limit_fen", 0)
    if not _is_int(waiver) or waiver < 0:
        raise UserInvalid("credit.waiver_limit_fen must be a non-negative integer")
    return {"zm_score": score, "waiver_limit_fen": waiver, "evaluable": evaluable}


def _validated_face(face: Any) -> dict[str, Any]:
    if not isinstance(face, dict) or face.get("outcome") not in FACE_OUTCOMES:
        raise UserInvalid('face must be {"outcome": "pass"} or {"outcome": "fail", "reason": …}')
    if face["outcome"] == "pass":
        return {"outcome": "pass"}
    reason = face.get("reason") or "人脸比对不一致（FACE_NOT_MATCH）"
    if not isinstance(reason, str):
        raise UserInvalid("face.reason must be a string")
    return {"outcome": "fail", "reason": reason}


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def masked_name(name: str) -> str:
    """`*伟`, `***雪`: every character but the last hidden, as the platform shows names."""
    return "*" * (len(name) - 1) + name[-1:] if name else ""


def balance_text(fen: int) -> str:
    """A balance in yuan for a page; paying a waived deposit may leave it below zero."""
    return ("-" if fen < 0 else "") + fen_to_yuan(abs(fen))


def masked_cert_no(cert_no: str) -> str:
    """`110***********1119`: the region's first three and the last four characters shown."""
    if len(cert_no) < 8:
        return "*" * len(cert_no)
    return cert_no[:3] + "*" * (len(cert_no) - 7) + cert_no[-4:]
