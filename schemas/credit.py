"""Schemas of credit authorisation: consents, admittance checks, deposits and their ledger.

No schema here carries a credit score except the raw-score answer, which exists only for the
merchant client that asked; checks carry the yes/no decision and its plain-words explanation.
"""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.common import BaseSchema, WholeNumber
from schemas.text import PlainText, text

ONE_MILLION_YUAN_FEN = 100_000_000
LOWEST_SCORE, HIGHEST_SCORE = 350, 950
CONSENT_STATUSES = ["active", "withdrawn", "replaced", "expired"]
CHECK_OUTCOMES = ["pending", "admitted", "not_admitted", "not_evaluable"]
DEPOSIT_STATUSES = ["awaiting_user", "held", "settled", "expired", "needs_review"]


def _purpose() -> fields.String:
    """The required `purpose` field several requests carry, declared once."""
    return fields.String(
        required=True,
        validate=text(min_length=1, max_length=40),
        metadata={"description": "One of the configured purposes.", "example": "deposit_waiver"},
    )


class ConsentCreateSchema(BaseSchema):
    """Record a consent with the code `my.getAuthCode({scopes: 'auth_zhima'})` returned."""

    auth_code = fields.String(
        required=True, load_only=True, validate=text(min_length=1, max_length=128)
    )
    scopes = fields.List(
        fields.String(validate=text(min_length=1, max_length=40)),
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=10),
        metadata={
            "description": "The scopes `my.getAuthCode` reported granted (`authSuccessScopes`).",
            "example": ["auth_zhima"],
        },
    )
    purpose = _purpose()


class ConsentEventSchema(BaseSchema):
    """One thing done under a consent: granted, used for a check or a deposit, withdrawn."""

    type = fields.String(dump_only=True, metadata={"example": "used_for_check"})
    actor = fields.String(dump_only=True)
    origin = fields.String(dump_only=True, allow_none=True)
    at = fields.AwareDateTime(dump_only=True)
    detail = fields.Dict(dump_only=True)


class ConsentSchema(BaseSchema):
    """A purpose-bound consent; `expired` is shown for an active one past `expires_at`."""

    id = fields.String(dump_only=True, metadata={"example": "cns_4k2…"})
    purpose = fields.String(dump_only=True)
    scope = fields.String(dump_only=True, metadata={"example": "auth_zhima"})
    policy_version = fields.String(dump_only=True)
    status = fields.String(
        dump_only=True, attribute="shown_status", metadata={"enum": CONSENT_STATUSES}
    )
    granted_at = fields.AwareDateTime(dump_only=True)
    expires_at = fields.AwareDateTime(dump_only=True)
    withdrawn_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    evidence = fields.Dict(dump_only=True)


class ConsentWithEventsSchema(ConsentSchema):
    events = fields.List(fields.Nested(ConsentEventSchema), dump_only=True)


class CheckCreateSchema(BaseSchema):
    """Ask whether the user's credit clears `threshold` (the configured one when omitted)."""

    purpose = _purpose()
    threshold = WholeNumber(
        validate=validate.Range(min=LOWEST_SCORE, max=HIGHEST_SCORE),
        metadata={"description": "A Zhima score from 350 to 950."},
    )


class CheckSchema(BaseSchema):
    """A decision and why; `admitted` is null when the platform could not evaluate the user."""

    id = fields.String(dump_only=True, metadata={"example": "chk_7q…"})
    user_id = fields.String(dump_only=True)
    purpose = fields.String(dump_only=True)
    requested_by = fields.String(dump_only=True)
    threshold = fields.Integer(dump_only=True)
    outcome = fields.String(dump_only=True, metadata={"enum": CHECK_OUTCOMES})
    admitted = fields.Boolean(dump_only=True, allow_none=True)
    explanation = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    decided_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class ScoreRequestSchema(BaseSchema):
    purpose = _purpose()


class ScoreSchema(BaseSchema):
    """The legacy raw score, answered to the asking merchant client only and never stored."""

    user_id = fields.String(dump_only=True)
    purpose = fields.String(dump_only=True)
    score = fields.Integer(dump_only=True, allow_none=True, metadata={"example": 742})
    decided_at = fields.AwareDateTime(dump_only=True)


class DepositCreateSchema(BaseSchema):
    """A deposit to hold; the user's credit may waive all or part of it."""

    order_ref = fields.String(
        required=True,
        validate=text(min_length=1, max_length=64),
        metadata={"description": "Your order's reference.", "example": "rent-20261130-0042"},
    )
    title = fields.String(
        required=True,
        validate=text(min_length=1, max_length=128, shown=True),
        metadata={"example": "充电宝押金"},
    )
    amount_fen = WholeNumber(
        required=True, validate=validate.Range(min=1, max=ONE_MILLION_YUAN_FEN)
    )
    category = fields.String(
        required=True,
        validate=PlainText(pattern=r"^[A-Za-z0-9_]{1,64}$"),
        metadata={"description": "The platform's credit category.", "example": "RENT_POWERBANK"},
    )


class ReleaseSchema(BaseSchema):
    amount_fen = WholeNumber(
        validate=validate.Range(min=1, max=ONE_MILLION_YUAN_FEN),
        metadata={"description": "Default: all that remains held."},
    )


class ChargeSchema(BaseSchema):
    amount_fen = WholeNumber(
        required=True, validate=validate.Range(min=1, max=ONE_MILLION_YUAN_FEN)
    )
    reason = fields.String(
        required=True,
        validate=text(min_length=1, max_length=256, shown=True),
        metadata={"example": "2 h rent"},
    )
    settle = fields.Boolean(
        load_default=False,
        metadata={"description": "Release whatever remains after this charge (ends the deposit)."},
    )


class DepositOperationSchema(BaseSchema):
    """One ledger line: the freeze, a release or a charge, with the credit/fund split."""

    kind = fields.String(dump_only=True, metadata={"enum": ["freeze", "release", "charge"]})
    status = fields.String(dump_only=True, metadata={"enum": ["pending", "succeeded", "failed"]})
    amount_fen = fields.Integer(dump_only=True)
    credit_fen = fields.Integer(dump_only=True, allow_none=True)
    fund_fen = fields.Integer(dump_only=True, allow_none=True)
    reason = fields.String(dump_only=True, allow_none=True)
    request_no = fields.String(dump_only=True)
    operation_id = fields.String(dump_only=True, allow_none=True)
    trade_no = fields.String(dump_only=True, allow_none=True)
    failure = fields.String(dump_only=True, allow_none=True)
    requested_by = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    completed_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class DepositSchema(BaseSchema):
    """A deposit; `order_str` is shown while it waits for the user (pass it to my.tradePay)."""

    id = fields.String(dump_only=True, metadata={"example": "dep_9x…"})
    user_id = fields.String(dump_only=True)
    order_ref = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    category = fields.String(dump_only=True)
    amount_fen = fields.Integer(dump_only=True)
    currency = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={"enum": DEPOSIT_STATUSES})
    order_str = fields.String(dump_only=True, allow_none=True, attribute="shown_order_str")
    auth_no = fields.String(dump_only=True, allow_none=True)
    credit_amount_fen = fields.Integer(dump_only=True, allow_none=True)
    fund_amount_fen = fields.Integer(dump_only=True, allow_none=True)
    released_fen = fields.Integer(dump_only=True)
    charged_fen = fields.Integer(dump_only=True)
    remaining_fen = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    expires_at = fields.AwareDateTime(dump_only=True)
    held_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    settled_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    problem = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "Why Minifin released the hold itself (foreign_payer, late_freeze) or"
            " parked the deposit for review (amount_mismatch, split_mismatch,"
            " unexpected_release, unexpected_payment)."
        },
    )
    operations = fields.List(fields.Nested(DepositOperationSchema), dump_only=True)


class MerchantConsentSchema(BaseSchema):
    """A consent as a merchant client's systems see it (in events): whose, for what, its status
    and times; no platform token and no evidence of where it came from."""

    id = fields.String(dump_only=True)
    user_id = fields.String(dump_only=True)
    purpose = fields.String(dump_only=True)
    scope = fields.String(dump_only=True)
    policy_version = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={"enum": CONSENT_STATUSES})
    granted_at = fields.AwareDateTime(dump_only=True)
    expires_at = fields.AwareDateTime(dump_only=True)
    withdrawn_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class MerchantCheckSchema(BaseSchema):
    """A decided credit check as a merchant client's systems see it (in events): no score."""

    id = fields.String(dump_only=True)
    user_id = fields.String(dump_only=True)
    consent_id = fields.String(dump_only=True)
    purpose = fields.String(dump_only=True)
    requested_by = fields.String(dump_only=True)
    threshold = fields.Integer(dump_only=True)
    outcome = fields.String(dump_only=True, metadata={"enum": CHECK_OUTCOMES})
    admitted = fields.Boolean(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
    decided_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class MerchantDepositSchema(DepositSchema):
    """A deposit as the merchant API shows it, without the user's signed order string or its
    ledger; a release or charge event adds the line that completed (`operation`)."""

    class Meta(DepositSchema.Meta):
        exclude = ("order_str", "operations")

    operation = fields.Nested(DepositOperationSchema, dump_only=True)
