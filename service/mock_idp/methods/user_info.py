"""`alipay.user.info.share`: a user's profile, minimal for most apps, full for privileged ones."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from service.mock_idp.grants import Grant, GrantRefused, grant_of_access_token, subject_fields
from service.mock_idp.protocol import GatewayCall, GatewayError, GatewayMethod

_CERT_TYPE_CODES = {"IDENTITY_CARD": "0"}


def user_grant(call: GatewayCall, *, needs_scope: str) -> Grant:
    """The grant behind the common `auth_token` parameter, checked for one scope."""
    try:
        grant = grant_of_access_token(
            call.store, call.params.get("auth_token", ""), call.app.app_id
        )
    except GrantRefused as refusal:
        if refusal.reason == "expired":
            raise GatewayError("20001", "aop.auth-token-time-out", "访问令牌已过期") from None
        raise GatewayError("20001", "aop.invalid-auth-token", "无效的访问令牌") from None
    if needs_scope not in grant.scopes:
        raise GatewayError(
            "40006",
            "isv.insufficient-user-permissions",
            f"用户未授权 {needs_scope}，当前授权范围：{' '.join(grant.scopes)}",
            under_error_response=True,
        )
    return grant


def user_info_share(call: GatewayCall) -> dict[str, Any]:
    """The profile under an `auth_user` token; privileged apps also see identity and contact."""
    grant = user_grant(call, needs_scope="auth_user")
    user = call.store.get_user(grant.user_id)
    if user is None:
        raise GatewayError("20001", "aop.invalid-auth-token", "授权用户不存在")
    fields: dict[str, Any] = {
        **subject_fields(call.app, grant.user_id),
        "avatar": urljoin(call.host_url, user["avatar"]),
        "nick_name": user["nick_name"],
    }
    if call.app.privileged:
        fields.update(
            gender=user["gender"],
            province=user["province"],
            city=user["city"],
            is_certified="T" if user["is_certified"] else "F",
            user_type=user["user_type"],
            user_status=user["user_status"],
            cert_type=_CERT_TYPE_CODES.get(user["cert_type"], user["cert_type"]),
            cert_no=user.get("cert_no", ""),
            user_name=user["user_name"],
            mobile=user.get("mobile", ""),
        )
    return {key: value for key, value in fields.items() if value != ""}


METHODS = (GatewayMethod("alipay.user.info.share", user_info_share),)
