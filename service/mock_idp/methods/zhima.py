"""`zhima.credit.score.brief.get` and `zhima.credit.score.get`: Zhima credit under consent.

The brief check tells whether a person reaches a score without revealing it; it needs the
person's `auth_zhima` consent to this app. The raw score is only for apps the platform granted
it (`raw_score`), read under the user's own `auth_zhima` token.
"""

from __future__ import annotations

from typing import Any

from service.mock_idp.grants import has_granted
from service.mock_idp.methods.user_info import user_grant
from service.mock_idp.parameters import parameter_refusal, text_parameter
from service.mock_idp.protocol import GatewayCall, GatewayError, GatewayMethod
from service.mock_idp.zhima import (
    admittance,
    new_biz_no,
    person_by_identity,
    raw_score,
    remembered_answer,
)

BRIEF_METHOD = "zhima.credit.score.brief.get"
SCORE_METHOD = "zhima.credit.score.get"
BRIEF_PRODUCT_CODE = "w1010100000000002733"
SCORE_PRODUCT_CODE = "w1010100100000000001"
LOWEST_SCORE, HIGHEST_SCORE = 350, 950
ZHIMA_SCOPE = "auth_zhima"


def _one_of(call: GatewayCall, name: str, allowed: tuple[str, ...]) -> str:
    value = text_parameter(call.biz, name, max_length=64)
    if value not in allowed:
        raise parameter_refusal(f"{name} 只支持 {'、'.join(allowed)}")
    return value


def _admittance_score(call: GatewayCall) -> int:
    """An integer from 350 to 950, sent as a JSON number or its digits."""
    text = text_parameter(call.biz, "admittance_score", max_length=3)
    if not (text.isascii() and text.isdigit()) or not LOWEST_SCORE <= int(text) <= HIGHEST_SCORE:
        raise parameter_refusal(f"admittance_score 须为 {LOWEST_SCORE} 到 {HIGHEST_SCORE} 的整数")
    return int(text)


def _user_refused(message: str) -> GatewayError:
    return GatewayError(
        "40006", "isv.insufficient-user-permissions", message, under_error_response=True
    )


def score_brief_get(call: GatewayCall) -> dict[str, Any]:
    """`is_admittance` Y/N (N/A for nobody or the unevaluable), never the score itself."""
    transaction_id = text_parameter(call.biz, "transaction_id", max_length=64)
    request: dict[str, Any] = {
        "method": BRIEF_METHOD,
        "product_code": _one_of(call, "product_code", (BRIEF_PRODUCT_CODE,)),
        "cert_type": _one_of(call, "cert_type", ("IDENTITY_CARD",)),
        "cert_no": text_parameter(call.biz, "cert_no", max_length=18).upper(),
        "name": text_parameter(call.biz, "name", max_length=64),
        "admittance_score": _admittance_score(call),
    }
    person = person_by_identity(call.store, request["cert_no"], request["name"])
    if person is not None and not has_granted(
        call.store, call.app.app_id, person["user_id"], ZHIMA_SCOPE
    ):
        raise _user_refused("用户未授权该应用查询芝麻信用（auth_zhima）")
    return remembered_answer(
        call.store,
        call.app.app_id,
        transaction_id,
        request,
        call.now,
        lambda: {
            "biz_no": new_biz_no(call.now),
            "is_admittance": admittance(person, request["admittance_score"]),
        },
    )


def score_get(call: GatewayCall) -> dict[str, Any]:
    """The raw `zm_score` of the token's user, for apps granted it; `N/A` when unevaluable."""
    if not call.app.raw_score:
        raise GatewayError(
            "40006",
            "isv.insufficient-isv-permissions",
            "应用未获得芝麻分查询权限",
            under_error_response=True,
        )
    grant = user_grant(call, needs_scope=ZHIMA_SCOPE)
    transaction_id = text_parameter(call.biz, "transaction_id", max_length=64)
    request = {
        "method": SCORE_METHOD,
        "product_code": _one_of(call, "product_code", (SCORE_PRODUCT_CODE,)),
        "user_id": grant.user_id,
    }
    user = call.store.get_user(grant.user_id)
    if user is None:
        raise GatewayError("20001", "aop.invalid-auth-token", "授权用户不存在")
    return remembered_answer(
        call.store,
        call.app.app_id,
        transaction_id,
        request,
        call.now,
        lambda: {"biz_no": new_biz_no(call.now), "zm_score": raw_score(user)},
    )


METHODS = (
    GatewayMethod(BRIEF_METHOD, score_brief_get),
    GatewayMethod(SCORE_METHOD, score_get),
)
