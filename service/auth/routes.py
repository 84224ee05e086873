"""Login, refresh, logout, the current user, client tokens and the JWKS document."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from schemas.auth import (
    ClientTokenRequestSchema,
    ClientTokenSchema,
    JWKSetSchema,
    LoginSchema,
    OAuthErrorSchema,
    PhoneProofSchema,
    PhoneSchema,
    RefreshSchema,
    SessionTokensSchema,
    UserSchema,
)
from service.auth import clients, phone_proof, services
from service.auth.decorators import user_required
from service.auth.oauth_answers import (
    as_oauth_answer,
    client_credentials,
    is_oauth_token_request,
    oauth_token_endpoint,
    require_client_credentials_grant,
)
from service.components import settings, token_keys
from service.http import accepts_form, rate_limited
from service.openapi import problems

blp = Blueprint("auth", __name__, url_prefix="/v1", description="Login, tokens, the current user.")
well_known = Blueprint("well_known", __name__, description="Keys to verify Minifin's tokens.")


@blp.route("/sessions", methods=["POST"])
@rate_limited(lambda: settings().login_rate_limit)
@blp.arguments(LoginSchema)
@blp.response(201, SessionTokensSchema)
@problems(blp, 400, 413, 415, 429, 502, 503)
def login(body):
    """Log in with an auth code from `my.getAuthCode`.

    Exchanges the code with the platform (`alipay.system.oauth.token`), reads the profile
    (`alipay.user.info.share`), creates or finds the user and opens a session: an ES256 access
    token (15 minutes by default) and a single-use refresh token. Gateway trouble is a 503 or 502
    and leaves no session.
    """
    return services.login_with_auth_code(body["auth_code"])


@blp.route("/sessions/refresh", methods=["POST"])
@rate_limited(lambda: settings().refresh_rate_limit)
@blp.arguments(RefreshSchema)
@blp.response(200, SessionTokensSchema)
@problems(blp, 400, 401, 413, 415, 429)
def refresh(body):
    """Swap a refresh token for a new pair; a reused token ends the session.

    Each refresh token works once and returns a new pair. Presenting a spent token again ends
    the whole session (`refresh_token_reused`), except within the grace window
    (`MINIFIN_REFRESH_GRACE_SECONDS`), where a repeat returns the same new pair.
    """
    return services.refresh_session(body["refresh_token"])


@blp.route("/sessions/current", methods=["DELETE"])
@user_required
@blp.response(204)
@problems(blp, 401)
def logout():
    """Log out: the session's refresh and access tokens stop working.

    Ends the session of the access token presented: its refresh token stops working at once, and
    its access tokens within `MINIFIN_SESSION_CHECK_SECONDS` on every process.
    """
    services.logout(g.session_id)


@blp.route("/me", methods=["GET"])
@user_required
@blp.response(200, UserSchema)
@problems(blp, 401)
def me():
    """The logged-in user.

    The user the access token belongs to: id, nickname and avatar, as the platform's profile
    gave them at the latest login.
    """
    return g.user


@blp.route("/me/phone", methods=["POST"])
@user_required
@blp.arguments(PhoneProofSchema)
@blp.response(200, PhoneSchema)
@problems(blp, 400, 401, 409, 413, 415, 422, 503)
def prove_phone(body):
    """Prove your mobile number with what `my.getPhoneNumber` returned.

    Post `res.response` as it came (or its fields). Minifin checks the platform's signature,
    decrypts the number with the app's AES key and keeps it only as a keyed digest, so gifts sent
    to that number can be claimed; the answer shows it masked. A bad signature
    (`phone_signature_invalid`), a wrong key (`phone_decryption_failed`), an answer that is not
    one (`phone_answer_malformed`), the platform's refusal (`phone_refused_by_platform`, with its
    `code` and `subcode`), or a number another account of this app already proved
    (`phone_bound_to_another_user`) stores nothing.
    """
    return phone_proof.prove_phone(g.user.id, body)


@blp.route("/oauth/token", methods=["POST"])
@oauth_token_endpoint
@rate_limited(lambda: settings().token_rate_limit)
@accepts_form
@blp.arguments(ClientTokenRequestSchema, location="json_or_form")
@blp.response(200, ClientTokenSchema)
@blp.alt_response(400, schema=OAuthErrorSchema, content_type="application/json",
                  description="An OAuth error (RFC 6749 §5.2) and a problem document.")
@blp.alt_response(401, schema=OAuthErrorSchema, content_type="application/json",
                  description="invalid_client, with `WWW-Authenticate: Basic`.")
@problems(blp, 429)
def client_token(body):
    """Client-credentials grant for merchant back offices (secret in the body or HTTP Basic).

    Errors are RFC 6749 §5.2 answers (`error`, `error_description`) that are problem documents
    too; see service/auth/oauth_answers.py.
    """
    require_client_credentials_grant(body["grant_type"])
    client_id, secret = client_credentials(body)
    return clients.issue_client_token(client_id, secret, body.get("scope"))


@blp.after_request
def _token_answers_speak_oauth(response):
    return as_oauth_answer(response) if is_oauth_token_request() else response


@well_known.route("/.well-known/jwks.json", methods=["GET"])
@well_known.response(200, JWKSetSchema)
def jwks():
    """Public keys that verify Minifin's access tokens (current and recently rotated).

    The ES256 public keys (JWK Set) that verify Minifin's access tokens: the current key and
    those rotated out while tokens they signed may still be valid. Cacheable for 5 minutes.
    """
    return token_keys().jwks(), 200, {"Cache-Control": "public, max-age=300"}
