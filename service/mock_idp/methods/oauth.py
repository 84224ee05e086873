"""`alipay.system.oauth.token`: auth codes and refresh tokens exchanged for a user's tokens."""

from __future__ import annotations

from typing import Any

from service.mock_idp.grants import (
    GrantRefused,
    TokenPair,
    redeem_auth_code,
    refresh_tokens,
    subject_fields,
)
from service.mock_idp.protocol import GatewayCall, GatewayError, GatewayMethod, beijing_time

_CODE_REFUSALS = {
    "unknown": "授权码 code 无效",
    "used": "授权码 code 已被使用",
    "expired": "授权码 code 已过期",
}
_REFRESH_REFUSALS = {
    "unknown": ("isv.refresh-token-invalid", "刷新令牌 refresh_token 无效"),
    "used": ("isv.refreshed-token-invalid", "刷新令牌 refresh_token 已被使用"),
    "expired": ("isv.refresh-token-time-out", "刷新令牌 refresh_token 已过期"),
}


def _error(sub_code: str, sub_msg: str) -> GatewayError:
    return GatewayError("40002", sub_code, sub_msg, under_error_response=True)


def oauth_token(call: GatewayCall) -> dict[str, Any]:
    """Exchange `code` (grant authorization_code) or `refresh_token` for a new token pair."""
    grant_type = call.params.get("grant_type", "")
    app_id = call.app.app_id
    try:
        if grant_type == "authorization_code":
            pair = redeem_auth_code(call.store, call.params.get("code", ""), app_id)
        elif grant_type == "refresh_token":
            pair = refresh_tokens(call.store, call.params.get("refresh_token", ""), app_id)
        else:
            raise _error(
                "isv.grant-type-invalid", "grant_type 只支持 authorization_code 或 refresh_token"
            )
    except GrantRefused as refusal:
        if grant_type == "authorization_code":
            raise _error("isv.code-invalid", _CODE_REFUSALS[refusal.reason]) from None
        raise _error(*_REFRESH_REFUSALS[refusal.reason]) from None
    return token_fields(call, pair)


def token_fields(call: GatewayCall, pair: TokenPair) -> dict[str, Any]:
    """The token response's business fields, the user named as the app's id_mode says."""
    return {
        **subject_fields(call.app, pair.grant.user_id),
        "access_token": pair.access_token,
        "expires_in": pair.expires_in,
        "refresh_token": pair.refresh_token,
        "re_expires_in": pair.re_expires_in,
        "auth_start": beijing_time(pair.issued_at),
    }


METHODS = (
    GatewayMethod("alipay.system.oauth.token", oauth_token, errors_under_error_response=True),
)
