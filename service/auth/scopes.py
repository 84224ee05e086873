"""Scopes a merchant client may hold, and what each lets it do."""

from __future__ import annotations

USER_SCOPE = "user"

CLIENT_SCOPES: dict[str, str] = {
    "identity:read": "Read a user's masked real-name status.",
    "credit:check": "Run credit admittance checks for consenting users.",
    "deposits:settle": "Release and charge credit deposits.",
    "templates:write": "Create and change voucher templates.",
    "vouchers:redeem": "Redeem vouchers at a store.",
    "events:read": "Read the event log (`GET /v1/events`).",
    "webhooks:write": "Register, change and remove webhook endpoints; read their deliveries.",
}


def parse_scopes(text: str | None) -> frozenset[str]:
    """Space-separated scopes (RFC 6749 §3.3) as a set."""
    return frozenset((text or "").split())


def unknown_scopes(scopes: frozenset[str]) -> list[str]:
    return sorted(scopes - CLIENT_SCOPES.keys())
