"""The open-gateway protocol as the mock serves it: errors, a call, and the common request checks.

What every request passes before its method runs lives here (required parameters, formats,
signature, the Beijing-time timestamp); business parameters are read in parameters.py and
answers written in responses.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from service.gateway import signing

if TYPE_CHECKING:
    from service.mock_idp.apps import AppRecord
    from service.mock_idp.store import MockStore

SUCCESS_CODE = "10000"
MESSAGES = {
    "10000": "Success",
    "20000": "Service Currently Unavailable",
    "20001": "Insufficient Token Permissions",
    "40001": "Missing Required Arguments",
    "40002": "Invalid Arguments",
    "40003": "Insufficient Conditions",
    "40004": "Business Failed",
    "40006": "Insufficient Permissions",
}
ERROR_RESPONSE_KEY = "error_response"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
_TIMESTAMP_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_REQUIRED = (
    ("method", "isv.missing-method"),
    ("app_id", "isv.missing-app-id"),
    ("sign", "isv.missing-signature"),
    ("timestamp", "isv.missing-timestamp"),
    ("version", "isv.missing-version"),
)
_ACCEPTED_CHARSETS = ("utf-8", "utf8")


class GatewayError(Exception):
    """A gateway failure answered as `code`/`msg`/`sub_code`/`sub_msg` (HTTP status stays 200)."""

    def __init__(
        self,
        code: str,
        sub_code: str,
        sub_msg: str = "",
        *,
        under_error_response: bool = False,
        msg: str | None = None,
    ):
        super().__init__(f"{code} {sub_code}: {sub_msg}")
        self.code = code
        self.sub_code = sub_code
        self.sub_msg = sub_msg or sub_code
        self.msg = msg or MESSAGES.get(code, "Business Failed")
        self.under_error_response = under_error_response

    def inner(self) -> dict[str, str]:
        """The error's fields in the platform's order."""
        return {
            "code": self.code,
            "msg": self.msg,
            "sub_code": self.sub_code,
            "sub_msg": self.sub_msg,
        }


@dataclass
class GatewayCall:
    """One verified gateway request as a method handler sees it."""

    params: dict[str, str]
    biz: dict[str, Any]
    app: AppRecord
    store: MockStore
    now: float
    host_url: str = "http://127.0.0.1/"
    platform_key: Any = None  # signs the notifications a call causes

    @property
    def settings(self) -> dict[str, Any]:
        """The store's run-time settings (token lifetimes and the like)."""
        return self.store.settings()


@dataclass(frozen=True)
class GatewayMethod:
    """A handler and where its errors go (oauth.token answers every error under error_response)."""

    name: str
    handler: Callable[[GatewayCall], dict[str, Any]]
    errors_under_error_response: bool = False


class BusinessRefusal(GatewayError):
    """A method's business failure: 40004 with the platform's sub_code for that product.

    Each product subclasses it, so that pages and control routes catch only their own.
    """

    def __init__(self, sub_code: str, sub_msg: str):
        super().__init__("40004", sub_code, sub_msg)


def merge_parameters(*sources: Mapping[str, str]) -> dict[str, str]:
    """Query string and form body as one parameter set; later sources win on a clash."""
    merged: dict[str, str] = {}
    for source in sources:
        merged.update({key: str(value) for key, value in source.items()})
    return merged


def check_required(params: Mapping[str, str]) -> None:
    """40001 for the first missing common parameter, in the platform's order."""
    for name, sub_code in _REQUIRED:
        if not params.get(name):
            raise GatewayError("40001", sub_code, f"缺少必选参数 {name}")


def check_common_formats(params: Mapping[str, str], now: float, skew: float | None) -> None:
    """40002 for a bad sign_type, timestamp, charset, version or format."""
    if params.get("sign_type", signing.RSA2) not in (signing.RSA2, signing.LEGACY_RSA):
        raise GatewayError("40002", "isv.invalid-signature-type", "sign_type 只支持 RSA2 或 RSA")
    sent = parse_timestamp(params["timestamp"])
    if sent is None:
        raise GatewayError(
            "40002", "isv.invalid-timestamp", "timestamp 格式应为 yyyy-MM-dd HH:mm:ss"
        )
    if skew is not None and abs(sent.timestamp() - now) > skew:
        raise GatewayError("40002", "isv.invalid-timestamp", "timestamp 与网关时间相差过大")
    if params.get("charset") and params["charset"].lower() not in _ACCEPTED_CHARSETS:
        raise GatewayError("40002", "isv.invalid-charset", "charset 只支持 utf-8")
    if params["version"] != "1.0":
        raise GatewayError("40002", "isv.invalid-parameter", "version 只支持 1.0")
    if params.get("format") and params["format"].lower() != "json":
        raise GatewayError("40002", "isv.invalid-parameter", "format 只支持 json")


def check_signed_request(
    params: Mapping[str, str], app: AppRecord | None, now: float, skew: float | None
) -> AppRecord:
    """What every request passes before its method runs: parameters, app, formats, signature.

    Returns the app, now known to exist.
    """
    check_required(params)
    if app is None:
        raise GatewayError("40002", "isv.invalid-app-id", "无效的 AppID 参数")
    check_common_formats(params, now, skew)
    if not signing.verify_request(params, app.public_key):
        raise signature_mismatch(params)
    return app


def parse_timestamp(text: str) -> datetime | None:
    """A `yyyy-MM-dd HH:mm:ss` Beijing time, or None if it is not one."""
    if not _TIMESTAMP_SHAPE.match(text or ""):
        return None
    try:
        return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=BEIJING)
    except ValueError:
        return None


def beijing_time(epoch_seconds: float) -> str:
    """`yyyy-MM-dd HH:mm:ss` in Beijing time, the platform's format for every time field."""
    return datetime.fromtimestamp(epoch_seconds, UTC).astimezone(BEIJING).strftime(TIMESTAMP_FORMAT)


def signature_mismatch(params: Mapping[str, str]) -> GatewayError:
    """40002 isv.invalid-signature echoing the string the gateway verified, to help debugging."""
    built = signing.request_signing_string(params)
    return GatewayError(
        "40002",
        "isv.invalid-signature",
        "验签出错，建议检查签名字符串或签名私钥与应用公钥证书是否匹配，网关生成的验签字符串为："
        + built,
    )

