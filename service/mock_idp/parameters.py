"""Business parameters as the mock reads them from `biz_content`: objects, text and yuan amounts.

Every product's methods read their parameters through these, so a missing one is 40001 and a
malformed one 40002 everywhere, unless a product passes its own `refuse` (the trade APIs answer
40004 `ACQ.INVALID_PARAMETER`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal, overload

from service.gateway.money import yuan_to_fen
from service.mock_idp.protocol import GatewayError


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
