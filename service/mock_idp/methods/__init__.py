"""The gateway's method registry: method name → handler. A new API is a new module listed here."""

from __future__ import annotations

from collections.abc import Iterable

from service.mock_idp.methods import messages, oauth, trades, user_info
from service.mock_idp.protocol import GatewayMethod


def _registry(*modules: Iterable[GatewayMethod]) -> dict[str, GatewayMethod]:
    registry: dict[str, GatewayMethod] = {}
    for methods in modules:
        for method in methods:
            if method.name in registry:
                raise RuntimeError(f"{method.name} is registered twice")
            registry[method.name] = method
    return registry


METHODS: dict[str, GatewayMethod] = _registry(
    oauth.METHODS, user_info.METHODS, trades.METHODS, messages.METHODS
)
