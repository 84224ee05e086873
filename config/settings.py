"""Every setting Minifin reads, declared once: the `Settings` fields are the `MINIFIN_*` variables.

Each field's `setting(...)` holds the variable's defaults per profile, its range or pattern and
its meaning (see `config.declaration`); `load_settings` (`config.loading`) reads the environment
through them, and the README's configuration table is generated from them
(`python -m config.reference --write README.md`). Adding a setting is adding a field here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from marshmallow import validate

from config.declaration import INSTANCE_DIR, KEY, LIST, URL, setting
from config.operational import OperationalSettings

_NOT_IN_PRODUCTION = {"production": None}


class ConfigError(RuntimeError):
    """A setting is missing or unacceptable; the message names the variable."""


def _range(low: float, high: float) -> validate.Range:
    return validate.Range(low, high)


def _certificate_file(meaning: str) -> Any:
    """A PEM file of certificate mode: set all three of them, or none (key mode)."""
    return setting(meaning, form=KEY, required=False, unset="key mode")


@dataclass(frozen=True)
class Settings(OperationalSettings):
    """Every setting Minifin reads, already parsed and checked (how it runs: the base class)."""

    profile: str = setting("`dev`, `test` or `production`", default="dev")
    instance_dir: Path = setting(
        "where dev keys and the SQLite database live",
        default="instance",
        note="(relative to the working directory)",
    )
    database_url: str = setting(
        "`sqlite:///…` or `postgresql+psycopg://…`",
        default=f"sqlite:///{INSTANCE_DIR}/minifin.sqlite3",
        validate=validate.Regexp(
            r"^(sqlite|postgresql(\+psycopg)?)://", error="must be a sqlite:// or postgresql:// URL"
        ),
    )
    public_url: str = setting(
        "Minifin's own address (for notification URLs)", default="http://127.0.0.1:5000", form=URL
    )
    gateway_url: str = setting(
        "the platform's open gateway; production: `https://openapi.alipay.com/gateway.do`",
        default="http://127.0.0.1:5001/gateway.do",
        profiles=_NOT_IN_PRODUCTION,
        form=URL,
        note="(the mock)",
    )
    mock_idp_url: str = setting(
        "the mock's control API (dev/test)",
        default="http://127.0.0.1:5001",
        profiles=_NOT_IN_PRODUCTION,
        form=URL,
        required=False,
    )
    authorize_url: str = setting(
        "the platform's browser login page, for the claim page",
        profiles={"production": "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm"},
        form=URL,
        required=False,
        unset="the gateway's host + `/oauth2/publicAppAuthorize.htm`",
    )
    app_id: str = setting(
        "the mini-program's app id",
        default="2021000000000001",
        profiles=_NOT_IN_PRODUCTION,
        validate=validate.Regexp(r"^\d{16}$", error="must be the 16-digit app id"),
    )
    app_private_key: str | None = setting(
        "RSA-2048 app key: PEM or bare base64, PKCS#1 or PKCS#8",
        default=f"{INSTANCE_DIR}/app-private-key.pem",
        profiles=_NOT_IN_PRODUCTION,
        form=KEY,
        required_in=("production",),
    )
    platform_public_key: str | None = setting(
        "the platform's public key, PEM or bare base64 (key mode)",
        default=f"{INSTANCE_DIR}/platform-public-key.pem",
        profiles=_NOT_IN_PRODUCTION,
        form=KEY,
        unset="required in key mode",
    )
    app_cert: str | None = _certificate_file(
        "certificate mode: the app's public-key certificate, `appCertPublicKey_<app_id>.crt`"
    )
    platform_cert: str | None = _certificate_file(
        "certificate mode: the platform's certificate, `alipayCertPublicKey_RSA2.crt`"
    )
    platform_root_cert: str | None = _certificate_file(
        "certificate mode: the platform's root bundle, `alipayRootCert.crt`"
    )
    app_aes_key: str | None = setting(
        "the app's content-encryption key (console: 接口内容加密方式), base64 of 128 bits",
        default=f"{INSTANCE_DIR}/app-aes-key.txt", profiles=_NOT_IN_PRODUCTION, form=KEY,
        required=False, unset="no content encryption",
    )  # fmt: skip
    app_aes_methods: tuple[str, ...] = setting(
        "methods sent AES-encrypted when a key is set (comma list; `*`: all with a biz_content)",
        default="*",
        form=LIST,
        item=validate.Regexp(r"^(\*|[a-z][a-z0-9_]*(\.[a-z0-9_]+)+)$"),
    )
    keys_file: Path = setting(
        "JWT keys, field-encryption keys, blind-index key, token secret",
        default=f"{INSTANCE_DIR}/keys.json",
    )
    jwt_issuer: str = setting("token `iss`", default="minifin")
    jwt_audience: str = setting("token `aud`", default="minifin-api")
    access_token_ttl: int = setting(
        "seconds an access token lasts", default="900", validate=_range(60, 3600)
    )
    client_token_ttl: int = setting(
        "seconds a merchant client's token lasts", default="900", validate=_range(60, 86400)
    )
    refresh_token_ttl: int = setting(
        "seconds a session lasts",
        default="2592000",
        validate=_range(300, 90 * 86400),
        note="(30 days)",
    )
    refresh_idle_ttl: int = setting(
        "a refresh token unused this many seconds expires",
        default="1209600",
        validate=_range(300, 90 * 86400),
        note="(14 days)",
    )
    refresh_grace_seconds: int = setting(
        "window in which a repeated refresh returns the same pair",
        default="30",
        validate=_range(0, 300),
    )
    session_check_seconds: float = setting(
        "how long a process remembers that a session is live (0: ask the database on every "
        "request)",
        default="1",
        validate=_range(0, 30),
    )
    job_max_attempts: int = setting(
        "attempts before an outbox job is parked as dead", default="8", validate=_range(1, 100)
    )
    job_lease_seconds: int = setting(
        "how long a worker owns a job, from its claim and again from the moment the job starts "
        "(database clock); after that another worker takes it",
        default="60",
        validate=_range(1, 3600),
    )
    message_retry_after_timeout: bool = setting(
        "after a template message's attempt of unknown outcome (a timeout after sending, a "
        "worker killed mid-send), send it again at most once (`true`) or not at all (`false`)",
        default="true",
    )
    job_backoff_base: float = setting(
        "retry delay: base·2^(attempt−1) seconds, capped by `MINIFIN_JOB_BACKOFF_MAX`, with "
        "±50 % jitter",
        default="2",
        validate=_range(0.01, 3600),
    )
    job_backoff_max: float = setting(
        "longest retry delay, seconds", default="3600", validate=_range(0.01, 86400)
    )
    worker_poll_interval: float = setting(
        "longest sleep of an idle worker, seconds (PostgreSQL also wakes it with NOTIFY)",
        default="1",
        validate=_range(0.05, 60),
    )
    gift_payment_minutes: int = setting(
        "how long a bought gift waits for payment before it is closed (also sent as the "
        "trade's `time_expire`)",
        default="15",
        validate=_range(1, 1440),
    )
    refund_period_days: int = setting(
        "how long after a payment the platform still accepts its refund (set it to what your "
        "platform contract says); `send_at` + claim window must fit inside, less a day",
        default="90",
        validate=_range(2, 3650),
    )
    seller_id: str = setting(
        "the merchant's `2088…` account; notifications naming another `seller_id` are refused",
        required=False,
        required_in=("production",),
        unset="learned from the first notification about a trade Minifin opened",
        validate=validate.Regexp(r"^(2088\d{12})?$", error="must be the 2088… merchant account"),
    )
    identity_verification_minutes: int = setting(
        "how long a face verification may take before it expires",
        default="30",
        validate=_range(1, 1440),
    )
    identity_attempts_per_day: int = setting(
        "verification attempts per user in 24 hours", default="5", validate=_range(1, 100)
    )
    credit_purposes: tuple[str, ...] = setting(
        "the purposes a credit consent may name (comma-separated)",
        default="deposit_waiver,credit_check",
        form=LIST,
        item=validate.Regexp(r"^[a-z][a-z0-9_]{1,39}$"),
        validate=validate.Length(min=1),
    )
    credit_policy_version: str = setting(
        "the version of the credit privacy text users consent to, kept with each consent",
        default="2026-11",
        validate=validate.Length(1, 32),
    )
    credit_consent_days: int = setting(
        "how long a credit consent lasts, days", default="365", validate=_range(1, 3650)
    )
    credit_admittance_score: int = setting(
        "the threshold of a check that names none (350–950)",
        default="600",
        validate=_range(350, 950),
    )
    credit_raw_score: bool = setting(
        "allow the legacy raw-score read (only for apps the platform granted it)", default="false"
    )
    credit_service_id: str = setting(
        "the credit service id the platform assigned, sent in `extra_param`",
        default="2026112500000000000000000001",
        profiles=_NOT_IN_PRODUCTION,
        required=False,
        validate=validate.Regexp(r"^(\w{1,64})?$"),
        note="(a demo id)",
    )
    deposit_pay_timeout_minutes: int = setting(
        "how long the user has to confirm a deposit in the cashier",
        default="15",
        validate=_range(1, 1440),
    )
    deposit_reconcile_seconds: int = setting(
        "when the worker asks the platform about a deposit no notification confirmed",
        default="120",
        validate=_range(1, 86400),
    )
    event_retention_days: int = setting(
        "how long the event log keeps an event (and its webhook deliveries), days",
        default="30",
        validate=_range(1, 3650),
    )
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Every `MINIFIN_*` variable as given, declared or not (keys too, so never in the repr)."""

    @property
    def is_production(self) -> bool:
        return self.profile == "production"

    @property
    def aes_methods(self) -> frozenset[str] | None:
        """The methods to encrypt, or None for every method sent with a `biz_content`."""
        return None if "*" in self.app_aes_methods else frozenset(self.app_aes_methods)

    @property
    def authorize_page_url(self) -> str:
        """The platform's browser login page: as configured, else at the gateway's host (mock)."""
        return self.authorize_url or urljoin(self.gateway_url, "/oauth2/publicAppAuthorize.htm")

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
