"""The settings of how Minifin runs rather than what it does: database sessions, gateway
timeouts and retries, rate limits, request size, logs and the docs UI.

They are declared like every other setting (`config.declaration`); `Settings` (config/settings.py)
extends this class, so the README's configuration table lists them first.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import validate

from config.declaration import URL, setting

_TEST_LIMIT = {"test": "10000 per minute"}


def _range(low: float, high: float) -> validate.Range:
    return validate.Range(low, high)


@dataclass(frozen=True)
class OperationalSettings:
    """Database sessions, gateway calls, limits, logs, docs."""

    db_idle_in_transaction_seconds: int = setting(
        "PostgreSQL: the server ends a session idle inside a transaction this long (a worker "
        "cut off mid-batch), rolling it back",
        default="10",
        validate=_range(1, 3600),
    )
    db_statement_timeout_seconds: int = setting(
        "PostgreSQL: longest statement, seconds", default="15", validate=_range(1, 3600)
    )
    db_tcp_timeout_seconds: int = setting(
        "PostgreSQL: how soon either end gives up on a silent connection (TCP keepalives, "
        "`tcp_user_timeout`, connect timeout)",
        default="10",
        validate=_range(3, 3600),
    )
    gateway_timeout: float = setting(
        "seconds a gateway call may take",
        default="10",
        profiles={"test": "3"},
        validate=_range(0.1, 120),
    )
    gateway_connect_timeout: float = setting(
        "seconds to connect to the gateway", default="3", validate=_range(0.1, 60)
    )
    gateway_retries: int = setting(
        "retries of safe gateway reads", default="2", validate=_range(0, 10)
    )
    gateway_retry_after: int = setting(
        "`Retry-After` seconds on a 503 when the gateway is unavailable",
        default="5",
        profiles={"test": "1"},
        validate=_range(1, 3600),
    )
    rate_limit_storage_uri: str = setting(
        "Flask-Limiter storage, e.g. `redis://127.0.0.1:6379/0`", default="memory://"
    )
    login_rate_limit: str = setting(
        "logins per client address", default="30 per minute", profiles=_TEST_LIMIT
    )
    refresh_rate_limit: str = setting(
        "refreshes per client address", default="60 per minute", profiles=_TEST_LIMIT
    )
    token_rate_limit: str = setting(
        "client-credentials token requests per client address",
        default="60 per minute",
        profiles=_TEST_LIMIT,
    )
    max_body_bytes: int = setting(
        "larger bodies get 413", default="65536", validate=_range(1024, 16 * 1024 * 1024)
    )
    trusted_proxies: int = setting(
        "how many reverse proxies set `X-Forwarded-For`", default="0", validate=_range(0, 10)
    )
    log_level: str = setting(
        "`DEBUG`, `INFO`, `WARNING` or `ERROR`",
        default="INFO",
        profiles={"test": "WARNING"},
        validate=validate.OneOf(["DEBUG", "INFO", "WARNING", "ERROR"]),
    )
    docs_assets_url: str = setting(
        "a CDN for `/docs` to load Swagger UI from (e.g. jsDelivr's swagger-ui-dist)",
        form=URL,
        required=False,
        unset="the copy installed with Minifin, served under `/docs/assets/`",
    )
