"""Defaults per profile: `dev` for a newcomer's laptop, `test` for the suite, `production`."""

from __future__ import annotations

_COMMON = {
    "MINIFIN_PUBLIC_URL": "http://127.0.0.1:5000",
    "MINIFIN_GATEWAY_URL": "http://127.0.0.1:5001/gateway.do",
    "MINIFIN_MOCK_IDP_URL": "http://127.0.0.1:5001",
    "MINIFIN_APP_ID": "2021000000000001",
    "MINIFIN_JWT_ISSUER": "minifin",
    "MINIFIN_JWT_AUDIENCE": "minifin-api",
    "MINIFIN_ACCESS_TOKEN_TTL": "900",
    "MINIFIN_CLIENT_TOKEN_TTL": "900",
    "MINIFIN_REFRESH_TOKEN_TTL": "2592000",
    "MINIFIN_REFRESH_IDLE_TTL": "1209600",
    "MINIFIN_REFRESH_GRACE_SECONDS": "30",
    "MINIFIN_SESSION_CHECK_SECONDS": "1",
    "MINIFIN_JOB_MAX_ATTEMPTS": "8",
    "MINIFIN_JOB_LEASE_SECONDS": "60",
    "MINIFIN_JOB_BACKOFF_BASE": "2",
    "MINIFIN_JOB_BACKOFF_MAX": "3600",
    "MINIFIN_MESSAGE_RETRY_AFTER_TIMEOUT": "true",
    "MINIFIN_WORKER_POLL_INTERVAL": "1",
    "MINIFIN_GIFT_PAYMENT_MINUTES": "15",
    "MINIFIN_REFUND_PERIOD_DAYS": "90",
    "MINIFIN_IDENTITY_VERIFICATION_MINUTES": "30",
    "MINIFIN_IDENTITY_ATTEMPTS_PER_DAY": "5",
    "MINIFIN_CREDIT_PURPOSES": "deposit_waiver,credit_check",
    "MINIFIN_CREDIT_POLICY_VERSION": "2026-11",
    "MINIFIN_CREDIT_CONSENT_DAYS": "365",
    "MINIFIN_CREDIT_ADMITTANCE_SCORE": "600",
    "MINIFIN_CREDIT_RAW_SCORE": "false",
    "MINIFIN_CREDIT_SERVICE_ID": "2026112500000000000000000001",
    "MINIFIN_DEPOSIT_PAY_TIMEOUT_MINUTES": "15",
    "MINIFIN_DEPOSIT_RECONCILE_SECONDS": "120",
    "MINIFIN_DB_IDLE_IN_TRANSACTION_SECONDS": "10",
    "MINIFIN_DB_STATEMENT_TIMEOUT_SECONDS": "15",
    "MINIFIN_DB_TCP_TIMEOUT_SECONDS": "10",
    "MINIFIN_GATEWAY_TIMEOUT": "10",
    "MINIFIN_GATEWAY_CONNECT_TIMEOUT": "3",
    "MINIFIN_GATEWAY_RETRIES": "2",
    "MINIFIN_GATEWAY_RETRY_AFTER": "5",
    "MINIFIN_RATE_LIMIT_STORAGE_URI": "memory://",
    "MINIFIN_LOGIN_RATE_LIMIT": "30 per minute",
    "MINIFIN_REFRESH_RATE_LIMIT": "60 per minute",
    "MINIFIN_TOKEN_RATE_LIMIT": "60 per minute",
    "MINIFIN_MAX_BODY_BYTES": "65536",
    "MINIFIN_TRUSTED_PROXIES": "0",
    "MINIFIN_LOG_LEVEL": "INFO",
}

PROFILE_DEFAULTS: dict[str, dict[str, str]] = {
    "dev": dict(_COMMON),
    "test": {
        **_COMMON,
        "MINIFIN_GATEWAY_TIMEOUT": "3",
        "MINIFIN_GATEWAY_RETRY_AFTER": "1",
        "MINIFIN_LOGIN_RATE_LIMIT": "10000 per minute",
        "MINIFIN_REFRESH_RATE_LIMIT": "10000 per minute",
        "MINIFIN_TOKEN_RATE_LIMIT": "10000 per minute",
        "MINIFIN_LOG_LEVEL": "WARNING",
    },
    "production": {
        **{
            k: v
            for k, v in _COMMON.items()
            if k
            not in {
                "MINIFIN_GATEWAY_URL",
                "MINIFIN_APP_ID",
                "MINIFIN_MOCK_IDP_URL",
                "MINIFIN_CREDIT_SERVICE_ID",  # the merchant's own, from the platform
            }
        },
        "MINIFIN_AUTHORIZE_URL": "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm",
    },
}
