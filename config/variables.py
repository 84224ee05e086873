"""The `MINIFIN_*` variables, their types and ranges, as a marshmallow schema.

Field names are the settings' attribute names; `data_key` is the variable, so a validation
message names the variable the operator has to fix.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate
from webargs.fields import DelimitedList


def _var(name: str) -> str:
    return f"MINIFIN_{name.upper()}"


def _url(name: str, **kwargs) -> fields.Url:
    return fields.Url(data_key=_var(name), require_tld=False, **kwargs)


class SettingsSchema(Schema):
    """Types and ranges of every variable; required ones are those with no profile default."""

    class Meta:
        unknown = EXCLUDE

    profile = fields.String(data_key=_var("profile"), required=True)
    instance_dir = fields.String(data_key=_var("instance_dir"), required=True)
    database_url = fields.String(
        data_key=_var("database_url"),
        required=True,
        validate=validate.Regexp(
            r"^(sqlite|postgresql(\+psycopg)?)://", error="must be a sqlite:// or postgresql:// URL"
        ),
    )
    public_url = _url("public_url", required=True)
    gateway_url = _url("gateway_url", required=True)
    mock_idp_url = _url("mock_idp_url", load_default="")
    authorize_url = _url("authorize_url", load_default="")
    app_id = fields.String(
        data_key=_var("app_id"),
        required=True,
        validate=validate.Regexp(r"^\d{16}$", error="must be the 16-digit app id"),
    )
    keys_file = fields.String(data_key=_var("keys_file"), required=True)
    jwt_issuer = fields.String(data_key=_var("jwt_issuer"), required=True)
    jwt_audience = fields.String(data_key=_var("jwt_audience"), required=True)
    access_token_ttl = fields.Integer(
        data_key=_var("access_token_ttl"), validate=validate.Range(60, 3600)
    )
    client_token_ttl = fields.Integer(
        data_key=_var("client_token_ttl"), validate=validate.Range(60, 86400)
    )
    refresh_token_ttl = fields.Integer(
        data_key=_var("refresh_token_ttl"), validate=validate.Range(300, 90 * 86400)
    )
    refresh_idle_ttl = fields.Integer(
        data_key=_var("refresh_idle_ttl"), validate=validate.Range(300, 90 * 86400)
    )
    refresh_grace_seconds = fields.Integer(
        data_key=_var("refresh_grace_seconds"), validate=validate.Range(0, 300)
    )
    session_check_seconds = fields.Float(
        data_key=_var("session_check_seconds"), validate=validate.Range(0, 30)
    )
    job_max_attempts = fields.Integer(
        data_key=_var("job_max_attempts"), validate=validate.Range(1, 100)
    )
    job_lease_seconds = fields.Integer(
        data_key=_var("job_lease_seconds"), validate=validate.Range(1, 3600)
    )
    message_retry_after_timeout = fields.Boolean(data_key=_var("message_retry_after_timeout"))
    job_backoff_base = fields.Float(
        data_key=_var("job_backoff_base"), validate=validate.Range(0.01, 3600)
    )
    job_backoff_max = fields.Float(
        data_key=_var("job_backoff_max"), validate=validate.Range(0.01, 86400)
    )
    worker_poll_interval = fields.Float(
        data_key=_var("worker_poll_interval"), validate=validate.Range(0.05, 60)
    )
    gift_payment_minutes = fields.Integer(
        data_key=_var("gift_payment_minutes"), validate=validate.Range(1, 1440)
    )
    refund_period_days = fields.Integer(
        data_key=_var("refund_period_days"), validate=validate.Range(2, 3650)
    )
    seller_id = fields.String(
        data_key=_var("seller_id"),
        load_default="",
        validate=validate.Regexp(r"^(2088\d{12})?$", error="must be the 2088… merchant account"),
    )
    identity_verification_minutes = fields.Integer(
        data_key=_var("identity_verification_minutes"), validate=validate.Range(1, 1440)
    )
    identity_attempts_per_day = fields.Integer(
        data_key=_var("identity_attempts_per_day"), validate=validate.Range(1, 100)
    )
    credit_purposes = DelimitedList(
        fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{1,39}$")),
        data_key=_var("credit_purposes"),
        validate=validate.Length(min=1),
    )
    credit_policy_version = fields.String(
        data_key=_var("credit_policy_version"), validate=validate.Length(1, 32)
    )
    credit_consent_days = fields.Integer(
        data_key=_var("credit_consent_days"), validate=validate.Range(1, 3650)
    )
    credit_admittance_score = fields.Integer(
        data_key=_var("credit_admittance_score"), validate=validate.Range(350, 950)
    )
    credit_raw_score = fields.Boolean(data_key=_var("credit_raw_score"))
    credit_service_id = fields.String(
        data_key=_var("credit_service_id"),
        load_default="",
        validate=validate.Regexp(r"^(\w{1,64})?$"),
    )
    deposit_pay_timeout_minutes = fields.Integer(
        data_key=_var("deposit_pay_timeout_minutes"), validate=validate.Range(1, 1440)
    )
    deposit_reconcile_seconds = fields.Integer(
        data_key=_var("deposit_reconcile_seconds"), validate=validate.Range(1, 86400)
    )
    db_idle_in_transaction_seconds = fields.Integer(
        data_key=_var("db_idle_in_transaction_seconds"), validate=validate.Range(1, 3600)
    )
    db_statement_timeout_seconds = fields.Integer(
        data_key=_var("db_statement_timeout_seconds"), validate=validate.Range(1, 3600)
    )
    db_tcp_timeout_seconds = fields.Integer(
        data_key=_var("db_tcp_timeout_seconds"), validate=validate.Range(3, 3600)
    )
    gateway_timeout = fields.Float(
        data_key=_var("gateway_timeout"), validate=validate.Range(0.1, 120)
    )
    gateway_connect_timeout = fields.Float(
        data_key=_var("gateway_connect_timeout"), validate=validate.Range(0.1, 60)
    )
    gateway_retries = fields.Integer(
        data_key=_var("gateway_retries"), validate=validate.Range(0, 10)
    )
    gateway_retry_after = fields.Integer(
        data_key=_var("gateway_retry_after"), validate=validate.Range(1, 3600)
    )
    rate_limit_storage_uri = fields.String(data_key=_var("rate_limit_storage_uri"))
    login_rate_limit = fields.String(data_key=_var("login_rate_limit"))
    refresh_rate_limit = fields.String(data_key=_var("refresh_rate_limit"))
    token_rate_limit = fields.String(data_key=_var("token_rate_limit"))
    max_body_bytes = fields.Integer(
        data_key=_var("max_body_bytes"), validate=validate.Range(1024, 16 * 1024 * 1024)
    )
    trusted_proxies = fields.Integer(
        data_key=_var("trusted_proxies"), validate=validate.Range(0, 10)
    )
    log_level = fields.String(
        data_key=_var("log_level"),
        validate=validate.OneOf(["DEBUG", "INFO", "WARNING", "ERROR"]),
    )
    docs_assets_url = _url("docs_assets_url", load_default="")
