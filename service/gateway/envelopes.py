"""The open gateway's envelope: common parameters, its timestamps, and cutting an answer's inner
object out of the body (or naming the other method's envelope that came instead)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from service.gateway import signing

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
COMMON_PARAMETERS = frozenset(
    {
        "app_id",
        "method",
        "format",
        "charset",
        "sign_type",
        "sign",
        "timestamp",
        "version",
        "notify_url",
        "return_url",
        "app_auth_token",
        "auth_token",
        "app_cert_sn",
        "alipay_root_cert_sn",
        "encrypt_type",
    }
)


def gateway_timestamp(moment: datetime | None = None) -> str:
    """`yyyy-MM-dd HH:mm:ss` in Beijing time, as the gateway expects."""
    return (moment or datetime.now(BEIJING)).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")

def extract_inner(body: bytes, key: str) -> tuple[str, dict[str, Any], str | None]:
    """The method's own envelope, or `error_response` for errors the gateway files there."""
    try:
        return signing.extract_response(body, key)
    except signing.MalformedResponse:
        return signing.extract_response(body, "error_response")


def other_method_key(body: bytes, key: str) -> str | None:
    """The `..._response` key of a well-formed envelope that is not `key`, if that is what came."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return None
    if not isinstance(envelope, dict):
        return None
    return next(
        (
            name
            for name in envelope
            if name.endswith("_response") and name not in (key, "error_response")
        ),
        None,
    )
