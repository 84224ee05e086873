"""User login (`alipay.system.oauth.token`): a mini-program auth code spent for a grant.

The grant names the user (`user_id`, or `open_id` for apps on the open-id scheme) and carries
the platform access token that user-scoped calls (`alipay.user.info.share`) take. An auth code
works once, for a few minutes, for the app that asked for it; a spent, expired or foreign code is
refused with one of `CODE_UNUSABLE_SUB_CODES`, surfacing as `GatewayRejected`.
"""

from __future__ import annotations

from typing import Any

from service.gateway.client import GatewayClient
from service.gateway.errors import GatewayBadResponse

OAUTH_TOKEN = "alipay.system.oauth.token"
CODE_UNUSABLE_SUB_CODES = frozenset({"isv.code-invalid", "isv.grant-type-invalid"})


def exchange_auth_code(gateway: GatewayClient, auth_code: str) -> dict[str, Any]:
    """Spend an auth code; the grant names the user and holds its platform access token.

    Not retried: a code is spent by the first request that reaches the platform, so a repeat
    after a lost answer would be refused anyway.
    """
    grant = gateway.call(OAUTH_TOKEN, grant_type="authorization_code", code=auth_code)
    if not (grant.get("user_id") or grant.get("open_id")) or not grant.get("access_token"):
        raise GatewayBadResponse("The platform's token answer named no user.")
    return grant
