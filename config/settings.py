"""Read `MINIFIN_*` variables into one validated, immutable Settings object.

Validation happens once, at start, so a misconfigured process stops with a single line naming the
variable instead of failing on the first request that needs it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

from marshmallow import ValidationError

from config.profiles import PROFILE_DEFAULTS
from config.variables import SettingsSchema


class ConfigError(RuntimeError):
    """A setting is missing or unacceptable; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Every setting Minifin reads, already parsed and checked."""

    profile: str
    instance_dir: Path
    database_url: str
    public_url: str
    gateway_url: str
    app_id: str
    app_private_key: str | None
    platform_public_key: str | None
    keys_file: Path
    jwt_issuer: str
    jwt_audience: str
    access_token_ttl: int
    client_token_ttl: int
    refresh_token_ttl: int
    refresh_idle_ttl: int
    refresh_grace_seconds: int
    session_check_seconds: float
    job_max_attempts: int
    job_lease_seconds: int
    job_backoff_base: float
    message_retry_after_timeout: bool
    job_backoff_max: float
    worker_poll_interval: float
    gift_payment_minutes: int
    refund_period_days: int
    seller_id: str
    identity_verification_minutes: int
    identity_attempts_per_day: int
    credit_purposes: tuple[str, ...]
    credit_policy_version: str
    credit_consent_days: int
    credit_admittance_score: int
    credit_raw_score: bool
    credit_service_id: str
    deposit_pay_timeout_minutes: int
    deposit_reconcile_seconds: int
    db_idle_in_transaction_seconds: int
    db_statement_timeout_seconds: int
    db_tcp_timeout_seconds: int
    gateway_timeout: float
    gateway_connect_timeout: float
    gateway_retries: int
    gateway_retry_after: int
    rate_limit_storage_uri: str
    login_rate_limit: str
    refresh_rate_limit: str
    token_rate_limit: str
    max_body_bytes: int
    trusted_proxies: int
    log_level: str
    mock_idp_url: str
    authorize_url: str
    docs_assets_url: str
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.profile == "production"

    @property
    def authorize_page_url(self) -> str:
        """The platform's browser login page: as configured, else at the gateway's host (mock)."""
        return self.authorize_url or urljoin(self.gateway_url, "/oauth2/publicAppAuthorize.htm")

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _read_file(path: str, variable: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{variable}: cannot read {path}: {exc.strerror}") from exc


def _key_value(env: Mapping[str, str], name: str, default_file: Path | None) -> str | None:
    """A key given inline (`NAME`), as a file (`NAME_FILE`), or found at its default path."""
    if env.get(name):
        return env[name]
    if env.get(f"{name}_FILE"):
        return _read_file(env[f"{name}_FILE"], f"{name}_FILE")
    if default_file is not None and default_file.exists():
        return default_file.read_text(encoding="utf-8")
    return None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from the environment (or a mapping overriding it) and validate them."""
    env = dict(os.environ if environ is None else {**os.environ, **environ})
    profile = env.get("MINIFIN_PROFILE", "dev")
    if profile not in PROFILE_DEFAULTS:
        allowed = ", ".join(PROFILE_DEFAULTS)
        raise ConfigError(f"MINIFIN_PROFILE: {profile!r} is not one of {allowed}")
    raw = {**PROFILE_DEFAULTS[profile], **_minifin_variables(env)}
    raw["MINIFIN_PROFILE"] = profile
    instance_dir = Path(raw.get("MINIFIN_INSTANCE_DIR") or "instance").resolve()
    raw["MINIFIN_INSTANCE_DIR"] = str(instance_dir)
    raw.setdefault("MINIFIN_DATABASE_URL", f"sqlite:///{instance_dir / 'minifin.sqlite3'}")
    raw.setdefault("MINIFIN_KEYS_FILE", str(instance_dir / "keys.json"))
    try:
        values = SettingsSchema().load(raw)
    except ValidationError as exc:
        variable, messages = next(iter(exc.normalized_messages().items()))
        message = messages[0] if isinstance(messages, list) else messages
        raise ConfigError(f"{variable}: {message}") from exc
    values["instance_dir"] = Path(values["instance_dir"])
    values["keys_file"] = Path(values["keys_file"])
    values["credit_purposes"] = tuple(values["credit_purposes"])
    settings = Settings(
        **values,
        app_private_key=_key_value(
            env,
            "MINIFIN_APP_PRIVATE_KEY",
            None if profile == "production" else instance_dir / "app-private-key.pem",
        ),
        platform_public_key=_key_value(
            env,
            "MINIFIN_PLATFORM_PUBLIC_KEY",
            None if profile == "production" else instance_dir / "platform-public-key.pem",
        ),
        extra={k: v for k, v in env.items() if k.startswith("MINIFIN_")},
    )
    from config.validation import validate

    validate(settings)
    return settings


def _minifin_variables(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith("MINIFIN_") and v != ""}
