"""The gateway's method registry: method name → handler. A new API is a new module listed here."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Response

from service.mock_idp import certify_page, freeze_page
from service.mock_idp.freeze_order import FREEZE_METHOD
from service.mock_idp.methods import (
    alipaycert,
    certify,
    fund_auth,
    messages,
    oauth,
    refund_query,
    trades,
    user_info,
    zhima,
)
from service.mock_idp.protocol import GatewayCall, GatewayMethod

# A page API's handler: the browser opened a signed gateway.do URL and gets a page, not JSON.
PageHandler = Callable[[GatewayCall], Response]


def _registry(*modules: Iterable[GatewayMethod]) -> dict[str, GatewayMethod]:
    registry: dict[str, GatewayMethod] = {}
    for methods in modules:
        for method in methods:
            if method.name in registry:
                raise RuntimeError(f"{method.name} is registered twice")
            registry[method.name] = method
    return registry


METHODS: dict[str, GatewayMethod] = _registry(
    oauth.METHODS,
    user_info.METHODS,
    trades.METHODS,
    messages.METHODS,
    certify.METHODS,
    zhima.METHODS,
    fund_auth.METHODS,
    refund_query.METHODS,
    alipaycert.METHODS,
)
# A page method that is also in METHODS (the freeze) shows its page to a browser only.
PAGE_METHODS: dict[str, PageHandler] = {
    certify_page.CERTIFY_METHOD: certify_page.show_certify_page,
    FREEZE_METHOD: freeze_page.show_freeze_page,
}
