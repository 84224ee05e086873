"""The user's public profile (`alipay.user.info.share`), read with the platform access token.

A user who granted only `auth_base` has no profile to share: the platform refuses with one of
`NO_PROFILE_SUB_CODES`, which reads here as an empty profile rather than a failed login.
"""

from __future__ import annotations

from typing import Any

from service.gateway.client import GatewayClient
from service.gateway.errors import GatewayRejected

USER_INFO_SHARE = "alipay.user.info.share"
NO_PROFILE_SUB_CODES = frozenset(
    {"isv.insufficient-user-permissions", "isv.insufficient-isv-permissions"}
)


def public_profile(gateway: GatewayClient, platform_access_token: str) -> dict[str, Any]:
    """Nickname, avatar (and for privileged apps more); empty when the user granted none."""
    try:
        return gateway.call(USER_INFO_SHARE, auth_token=platform_access_token, safe_to_retry=True)
    except GatewayRejected as exc:
        if exc.sub_code in NO_PROFILE_SUB_CODES:
            return {}
        raise
