"""Schemas of login, token refresh, the current user and merchant client tokens."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields

from schemas.common import BaseSchema, ProblemSchema
from schemas.text import PlainText, text

_token_text = text(min_length=1, max_length=512)


class LoginSchema(BaseSchema):
    auth_code = fields.String(
        required=True,
        load_only=True,
        validate=_token_text,
        metadata={"description": "The code `my.getAuthCode` returned in the mini-program."},
    )


class RefreshSchema(BaseSchema):
    refresh_token = fields.String(required=True, load_only=True, validate=_token_text)


class UserSchema(BaseSchema):
    id = fields.String(dump_only=True, metadata={"example": "usr_4k9d2m…"})
    nickname = fields.String(dump_only=True, allow_none=True)
    avatar_url = fields.String(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
    last_login_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class PhoneProofSchema(BaseSchema):
    """What `my.getPhoneNumber` handed the mini-program: `res.response` whole, or its fields."""

    response = fields.String(
        required=True,
        load_only=True,
        validate=text(min_length=1, max_length=4096),
        metadata={
            "description": "`res.response` as received (a JSON string), or, with `sign`, its "
            "`response` field (the base64 ciphertext)."
        },
    )
    sign = fields.String(load_only=True, validate=text(min_length=1, max_length=1024))
    sign_type = fields.String(load_only=True, validate=text(min_length=1, max_length=16))
    encrypt_type = fields.String(load_only=True, validate=text(min_length=1, max_length=16))
    charset = fields.String(load_only=True, validate=text(min_length=1, max_length=16))


class PhoneSchema(BaseSchema):
    phone = fields.String(
        dump_only=True,
        metadata={"description": "The proven number, masked.", "example": "138****8000"},
    )


class SessionTokensSchema(BaseSchema):
    """A token pair: a short-lived JWT and an opaque, single-use refresh token."""

    token_type = fields.String(dump_only=True, metadata={"example": "Bearer"})
    access_token = fields.String(dump_only=True)
    expires_in = fields.Integer(dump_only=True, metadata={"description": "Seconds."})
    refresh_token = fields.String(dump_only=True)
    refresh_expires_in = fields.Integer(dump_only=True, metadata={"description": "Seconds."})
    user = fields.Nested(UserSchema, dump_only=True)


class ClientTokenRequestSchema(BaseSchema):
    """OAuth 2.0 client-credentials request (RFC 6749 §4.4), as a form or JSON.

    Unknown parameters are ignored, as RFC 6749 §3.2 requires of a token endpoint; the grant
    type is checked by the grant (an `unsupported_grant_type` error, not a validation error).
    """

    class Meta(BaseSchema.Meta):
        unknown = EXCLUDE

    grant_type = fields.String(
        required=True,
        load_only=True,
        validate=PlainText(),
        metadata={"enum": ["client_credentials"]},
    )
    client_id = fields.String(load_only=True, validate=text(max_length=64))
    client_secret = fields.String(load_only=True, validate=text(max_length=256))
    scope = fields.String(load_only=True, validate=text(max_length=512))


class ClientTokenSchema(BaseSchema):
    token_type = fields.String(dump_only=True)
    access_token = fields.String(dump_only=True)
    expires_in = fields.Integer(dump_only=True)
    scope = fields.String(dump_only=True)


class OAuthErrorSchema(ProblemSchema):
    """An RFC 6749 §5.2 error that is an RFC 9457 problem too (both kinds of client read it)."""

    error = fields.String(
        dump_only=True,
        metadata={
            "enum": ["invalid_request", "invalid_client", "invalid_grant",
                     "unsupported_grant_type", "invalid_scope"],
            "example": "invalid_client",
        }
    )  # fmt: skip
    error_description = fields.String(
        dump_only=True, metadata={"example": "Unknown client or wrong secret."}
    )


class JWKSchema(BaseSchema):
    kty = fields.String(dump_only=True)
    crv = fields.String(dump_only=True)
    x = fields.String(dump_only=True)
    y = fields.String(dump_only=True)
    kid = fields.String(dump_only=True)
    use = fields.String(dump_only=True)
    alg = fields.String(dump_only=True)


class JWKSetSchema(BaseSchema):
    keys = fields.List(fields.Nested(JWKSchema), dump_only=True)
