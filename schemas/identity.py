"""Schemas of real-name authentication: verification attempts and the masked identity.

The name and ID number are load-only and carry no examples: they are never sent back, and the
OpenAPI document must not teach anyone a real-looking identity. Only masked forms are dumped.
"""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.common import BaseSchema
from schemas.text import PlainText, text

STATUSES = ["pending", "passed", "failed", "expired", "canceled"]


class VerificationCreateSchema(BaseSchema):
    """Start a face verification; the rules of the name and number are checked by the service."""

    name = fields.String(
        required=True,
        load_only=True,
        validate=text(min_length=1, max_length=64),
        metadata={"description": "The real name as on the resident ID card (2–30 characters)."},
    )
    id_number = fields.String(
        required=True,
        load_only=True,
        validate=text(min_length=1, max_length=32),
        metadata={"description": "The 18-character resident ID number (GB 11643)."},
    )
    return_url = fields.Url(
        required=True,
        load_only=True,
        require_tld=False,
        schemes={"https", "http", "alipays"},
        validate=[validate.Length(max=1024), PlainText()],
        metadata={"description": "Where the face-scan page sends the user back."},
    )
    consent = fields.Raw(
        required=True,
        load_only=True,
        metadata={
            "type": "boolean",
            "description": "Must be `true`: the user's separate consent to face verification.",
        },
    )


class VerificationSchema(BaseSchema):
    """One attempt; the outcome comes from the platform, never from the browser returning."""

    id = fields.String(dump_only=True, metadata={"example": "idv_5r8k…"})
    status = fields.String(dump_only=True, metadata={"enum": STATUSES})
    fail_reason = fields.String(dump_only=True, allow_none=True)
    name = fields.String(dump_only=True, attribute="name_masked", metadata={"example": "*三"})
    id_number = fields.String(
        dump_only=True, attribute="id_number_masked", metadata={"example": "110***********1234"}
    )
    certify_url = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Open this in the user's browser to do the face scan."},
    )
    created_at = fields.AwareDateTime(dump_only=True)
    expires_at = fields.AwareDateTime(dump_only=True)
    finished_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class IdentitySchema(BaseSchema):
    """A user's identity, masked; `verified: false` and nothing else when there is none."""

    verified = fields.Boolean(dump_only=True)
    name = fields.String(dump_only=True, allow_none=True, metadata={"example": "欧阳*"})
    id_number = fields.String(
        dump_only=True, allow_none=True, metadata={"example": "110***********1234"}
    )
    verified_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    birth_date = fields.Date(dump_only=True, allow_none=True)
    is_adult = fields.Boolean(dump_only=True, allow_none=True)


class IdentityEventSchema(BaseSchema):
    """One entry of the record of processing; it never holds personal data."""

    type = fields.String(dump_only=True, metadata={"example": "verification.passed"})
    verification_id = fields.String(dump_only=True, allow_none=True)
    actor = fields.String(dump_only=True)
    origin = fields.String(dump_only=True, allow_none=True)
    at = fields.AwareDateTime(dump_only=True)
    detail = fields.Dict(dump_only=True)


class MerchantVerificationSchema(BaseSchema):
    """A verification attempt as a merchant client's systems see it (in events): whose, how it
    ended and when; never the name or ID number, not even masked."""

    id = fields.String(dump_only=True)
    user_id = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={"enum": STATUSES})
    fail_reason = fields.String(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
    expires_at = fields.AwareDateTime(dump_only=True)
    finished_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class MerchantErasureSchema(BaseSchema):
    """`identity.erased`: whose identity data was erased and when, nothing of the data."""

    user_id = fields.String(dump_only=True)
    verified = fields.Boolean(dump_only=True)
    erased_at = fields.AwareDateTime(dump_only=True)
