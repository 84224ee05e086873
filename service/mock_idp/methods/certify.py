"""`alipay.user.certify.open.initialize/query`: real-name authentication by face scan.

The platform answers a business parameter that is missing, empty, too long or outside its
values with 40004 `ILLEGAL_ARGUMENT_FORMAT` ("参数异常"), and `identity_param` or
`merchant_config` strings that are not JSON with 40004 `unknown-sub-code` ("未知的错误码
UNKNOWN_ERROR"), as its developer support documents. An unknown `certify_id` is
`OPEN_CERTIFY_BILL_NOT_EXIST`. The sub_code for reusing an `outer_order_no` with other content
is not documented: the mock answers `OUTER_ORDER_NO_REPEAT`.

`outer_order_no` is documented as letters and digits; the mock also accepts `_`, which
merchants' prefixed ids carry and the platform is not known to refuse.
The third method, `alipay.user.certify.open.certify`, is a page: see certify_page.py.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, overload

from service.mock_idp.authorize_page import is_registered_redirect, is_web_url
from service.mock_idp.certifications import (
    NEVER,
    RESERVE,
    CertificationRefused,
    CertificationRequest,
    create_certification,
    find_certification,
    illegal_argument,
    query_fields,
)
from service.mock_idp.demo_idcard import is_valid_id_number
from service.mock_idp.parameters import text_parameter
from service.mock_idp.protocol import GatewayCall, GatewayMethod

BIZ_CODES = ("FACE", "CERT_PHOTO", "CERT_PHOTO_FACE", "SMART_FACE")
_OUTER_ORDER_NO = re.compile(r"^[A-Za-z0-9_]{1,32}$")
MAX_NAME_LENGTH = 64


@overload  # required (the default): never None
def _text(
    values: dict[str, Any], name: str, max_length: int, required: Literal[True] = ...
) -> str: ...
@overload
def _text(
    values: dict[str, Any], name: str, max_length: int, required: bool = ...
) -> str | None: ...
def _text(values: dict[str, Any], name: str, max_length: int, required: bool = True) -> str | None:
    return text_parameter(
        values, name, max_length=max_length, required=required, refuse=illegal_argument
    )


def _one_of(values: dict[str, Any], name: str, allowed: tuple[str, ...], default=None) -> str:
    value = _text(values, name, 32, required=default is None) or default
    if value not in allowed:
        raise illegal_argument(f"{name} 只能是 {' / '.join(allowed)}")
    return value


def _nested(call: GatewayCall, name: str) -> dict[str, Any]:
    """A nested object, sent as an object or as a JSON string."""
    value = call.biz.get(name)
    if value is None or value == "":
        raise illegal_argument(f"缺少必选参数 {name}")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise CertificationRefused("unknown-sub-code", "未知的错误码UNKNOWN_ERROR") from None
    if not isinstance(value, dict):
        raise illegal_argument(f"{name} 必须是 JSON 对象")
    return value


def _return_url(call: GatewayCall, config: dict[str, Any]) -> str:
    url = _text(config, "return_url", 1024)
    if not is_web_url(url):
        raise illegal_argument("return_url 必须是完整的 http(s) 地址")
    if not is_registered_redirect(call.app, url):
        raise illegal_argument("return_url 不在应用登记的回调地址中")
    return url


def certify_initialize(call: GatewayCall) -> dict[str, Any]:
    """A certification of the named person; `outer_order_no` makes a retry return the same id."""
    outer_order_no = _text(call.biz, "outer_order_no", 32)
    if not _OUTER_ORDER_NO.match(outer_order_no):
        raise illegal_argument("outer_order_no 只能包含字母、数字、下划线，最长 32 位")
    biz_code = _one_of(call.biz, "biz_code", BIZ_CODES)
    identity = _nested(call, "identity_param")
    _one_of(identity, "identity_type", ("CERT_INFO",))
    _one_of(identity, "cert_type", ("IDENTITY_CARD",))
    cert_name = _text(identity, "cert_name", MAX_NAME_LENGTH).strip()
    if not cert_name:
        raise illegal_argument("cert_name 不能为空")
    cert_no = _text(identity, "cert_no", 18).upper()
    if not is_valid_id_number(cert_no):
        raise illegal_argument("cert_no 不是有效的 18 位居民身份证号")
    config = _nested(call, "merchant_config")
    request = CertificationRequest(
        app_id=call.app.app_id,
        outer_order_no=outer_order_no,
        biz_code=biz_code,
        cert_name=cert_name,
        cert_no=cert_no,
        return_url=_return_url(call, config),
        face_reserve_strategy=_one_of(
            config, "face_reserve_strategy", (RESERVE, NEVER), default=RESERVE
        ),
    )
    return {"certify_id": create_certification(call.store, request, call.now)}


def certify_query(call: GatewayCall) -> dict[str, Any]:
    """`passed` (`F` until finished), `fail_reason` after a failure, identity and material."""
    certify_id = _text(call.biz, "certify_id", 64)
    return query_fields(find_certification(call.store, call.app.app_id, certify_id))


METHODS = (
    GatewayMethod("alipay.user.certify.open.initialize", certify_initialize),
    GatewayMethod("alipay.user.certify.open.query", certify_query),
)
