"""The open-gateway protocol as the mock serves it: parameter checks, errors and response bodies."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal, overload

from service.gateway import signing
from service.gateway.money import yuan_to_fen

if TYPE_CHECKING:
    from service.mock_idp.store import AppRecord, MockStore

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


def business_parameters(params: Mapping[str, str]) -> dict[str, Any]:
    """`biz_content` as an object; absent, empty and `{}` all mean no business parameters."""
    text = (params.get("biz_content") or "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise GatewayError(
            "40002", "isv.invalid-parameter", "biz_content 不是合法的 JSON"
        ) from None
    if not isinstance(value, dict):
        raise GatewayError("40002", "isv.invalid-parameter", "biz_content 必须是 JSON 对象")
    return value


def nested_object(biz: Mapping[str, Any], name: str, *, required: bool = False) -> dict | None:
    """A nested business object that clients send either as an object or as a JSON string."""
    value = biz.get(name)
    if value in (None, ""):
        if required:
            raise GatewayError("40001", "isv.missing-parameter", f"缺少必选参数 {name}")
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise GatewayError(
                "40002", "isv.invalid-parameter", f"{name} 不是合法的 JSON"
            ) from None
    if not isinstance(value, dict):
        raise GatewayError("40002", "isv.invalid-parameter", f"{name} 必须是 JSON 对象")
    return value


def parameter_refusal(message: str, *, missing: bool = False) -> GatewayError:
    """The gateway's answer to a missing (40001) or malformed (40002) business parameter."""
    if missing:
        return GatewayError("40001", "isv.missing-parameter", message)
    return GatewayError("40002", "isv.invalid-parameter", message)


# A required parameter is never None: the overloads tell the type checker so.
@overload
def text_parameter(
    biz: Mapping[str, Any], name: str, *, max_length: int, required: Literal[True] = ...,
    refuse: Callable[..., GatewayError] = ...,
) -> str: ...
@overload
def text_parameter(biz: Mapping[str, Any], name: str, *, max_length: int, required: bool,
                   refuse: Callable[..., GatewayError] = ...) -> str | None: ...
def text_parameter(
    biz: Mapping[str, Any],
    name: str,
    *,
    max_length: int,
    required: bool = True,
    refuse: Callable[..., GatewayError] = parameter_refusal,
) -> str | None:
    """A string business parameter (a JSON number is taken as its text), length checked."""
    value = biz.get(name)
    if value is None or value == "":
        if required:
            raise refuse(f"缺少必选参数 {name}", missing=True)
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise refuse(f"{name} 必须是字符串")
    text = str(value)
    if len(text) > max_length:
        raise refuse(f"{name} 不能超过 {max_length} 个字符")
    return text


@overload
def amount_parameter(biz: Mapping[str, Any], name: str, *, required: Literal[True] = ...,
                     positive: bool = ..., refuse: Callable[..., GatewayError] = ...) -> int: ...
@overload
def amount_parameter(
    biz: Mapping[str, Any], name: str, *, required: bool, positive: bool = ...,
    refuse: Callable[..., GatewayError] = ...,
) -> int | None: ...
def amount_parameter(
    biz: Mapping[str, Any],
    name: str,
    *,
    required: bool = True,
    positive: bool = True,
    refuse: Callable[..., GatewayError] = parameter_refusal,
) -> int | None:
    """A yuan amount (string or JSON number, at most two decimals) as integer fen.

    `positive=False` leaves a zero or negative amount to the caller, for APIs that answer it
    with a business code of their own.
    """
    value = biz.get(name)
    if value is None or value == "":
        if required:
            raise refuse(f"缺少必选参数 {name}", missing=True)
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise refuse(f"{name} 金额格式错误")
    try:
        fen = yuan_to_fen(str(value))
    except ValueError:
        raise refuse(f"{name} 金额格式错误，应为元，最多两位小数") from None
    if positive and fen <= 0:
        raise refuse(f"{name} 必须大于 0")
    return fen


def success_inner(fields: Mapping[str, Any]) -> dict[str, Any]:
    """`code` 10000 and `msg` Success first, then the business fields; never a `sub_code`."""
    business = {
        key: value for key, value in fields.items() if key not in ("code", "msg", "sub_code")
    }
    return {"code": SUCCESS_CODE, "msg": MESSAGES[SUCCESS_CODE], **business}


def has_balanced_braces(text: str) -> bool:
    """Whether brace-counting clients can walk over this string without losing their place."""
    depth = 0
    for character in text:
        depth += {"{": 1, "}": -1}.get(character, 0)
        if depth < 0:
            return False
    return depth == 0


def without_unbalanced_braces(value: Any) -> Any:
    """Replace `{`/`}` by full-width brackets in any string whose braces do not pair up."""
    if isinstance(value, str):
        if has_balanced_braces(value):
            return value
        return value.replace("{", "｛").replace("}", "｝")
    if isinstance(value, dict):
        return {key: without_unbalanced_braces(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_unbalanced_braces(item) for item in value]
    return value


def render_response(
    key: str,
    inner: Mapping[str, Any],
    private_key: Any,
    *,
    signature: str = "valid",
    sign_type: str = signing.RSA2,
) -> bytes:
    """The response body: inner object, then `sign` (`valid`, `corrupt` or `none`)."""
    safe_inner = without_unbalanced_braces(dict(inner))
    if private_key is None or signature == "none":
        return signing.build_response(key, safe_inner, None)
    body = signing.build_response(key, safe_inner, private_key, sign_type).decode("utf-8")
    if signature == "corrupt":
        raw = bytearray(base64.b64decode(json.loads(body)["sign"]))
        raw[len(raw) // 2] ^= 0xFF
        body = _with_signature(body, base64.b64encode(bytes(raw)).decode("ascii"))
    return body.encode("utf-8")


def response_sign_type(params: Mapping[str, str]) -> str:
    """The algorithm to answer in: the request's, when it is one the gateway knows."""
    sign_type = params.get("sign_type") or signing.RSA2
    return sign_type if sign_type in (signing.RSA2, signing.LEGACY_RSA) else signing.RSA2


def _with_signature(body: str, signature: str) -> str:
    """Replace the trailing `"sign"` value (always last in the bodies build_response makes)."""
    head, _, _old = body.rpartition(',"sign":"')
    return head + ',"sign":' + signing.compact_json(signature) + "}"
