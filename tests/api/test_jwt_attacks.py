"""RFC 8725 attack table: every forged, stale or misdirected token is a 401 problem."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from service.components import token_keys
from tests.conftest import bearer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segments(token: str) -> tuple[dict, dict]:
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    return header, claims


def _unsigned(header: dict, claims: dict) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."


def _hs256_with_public_key(app, header: dict, claims: dict) -> str:
    """The key-confusion attack: HMAC the token with our public key as the shared secret."""
    with app.app_context():
        jwk = token_keys().jwks()["keys"][0]
    public_pem = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(jwk)).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    head = _b64(json.dumps({**header, "alg": "HS256"}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = hmac.new(public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


def _resigned(app, header_changes: dict | None = None, **claim_changes) -> str:
    """A token signed with our real key but with altered claims or header."""
    with app.app_context():
        keys = token_keys()
        token, _ = keys.issue("usr_x", scope="user", ttl=900)
        _header, claims = _segments(token)
        key = keys._keys[keys.signing_kid].private_key
    claims.update(claim_changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    headers = {"kid": keys.signing_kid, "typ": "at+jwt", **(header_changes or {})}
    return jwt.encode(claims, key, algorithm="ES256", headers=headers)


def _forged_with_stranger_key(header: dict, claims: dict) -> str:
    stranger = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(claims, stranger, algorithm="ES256", headers={**header})


ATTACKS = {
    "alg_none": lambda app, t: _unsigned({**_segments(t)[0], "alg": "none"}, _segments(t)[1]),
    "hs256_with_public_key": lambda app, t: _hs256_with_public_key(app, *_segments(t)),
    "expired": lambda app, t: _resigned(app, exp=int(time.time()) - 60, sub=_segments(t)[1]["sub"]),
    "not_yet_valid": lambda app, t: _resigned(app, nbf=int(time.time()) + 600),
    "wrong_issuer": lambda app, t: _resigned(app, iss="someone-else"),
    "wrong_audience": lambda app, t: _resigned(app, aud="another-api"),
    "wrong_typ": lambda app, t: _resigned(app, header_changes={"typ": "JWT"}),
    "unknown_kid": lambda app, t: _resigned(app, header_changes={"kid": "not-ours"}),
    "missing_expiry": lambda app, t: _resigned(app, exp=None),
    "stranger_key_same_kid": lambda app, t: _forged_with_stranger_key(*_segments(t)),
    "tampered_payload": lambda app, t: ".".join(
        [
            t.split(".")[0],
            _b64(json.dumps({**_segments(t)[1], "sub": "usr_someone_else"}).encode()),
            t.split(".")[2],
        ]
    ),
    "refresh_token_as_access_token": None,
    "garbage": lambda app, t: "not.a.jwt",
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_forged_or_misused_token_is_refused_with_a_401_problem(app, client, login, attack):
    tokens = login()
    forge = ATTACKS[attack]
    token = tokens["refresh_token"] if forge is None else forge(app, tokens["access_token"])

    response = client.get("/v1/me", headers=bearer(token))

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 401
    assert body["code"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_untouched_token_is_accepted(client, login):
    assert client.get("/v1/me", headers=bearer(login()["access_token"])).status_code == 200


def test_an_expired_token_says_so(app, client, login):
    login()
    token = _resigned(app, exp=int(time.time()) - 60)

    assert client.get("/v1/me", headers=bearer(token)).get_json()["code"] == "token_expired"


def test_a_merchant_client_token_cannot_act_as_a_user(app, client):
    from service.auth.clients import create_client

    with app.app_context():
        merchant, secret = create_client("till", ["vouchers:redeem"])
    token = client.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": merchant.id,
            "client_secret": secret,
        },
    ).get_json()["access_token"]

    response = client.get("/v1/me", headers=bearer(token))

    assert response.status_code == 401
    assert response.get_json()["code"] == "user_token_required"


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc"])
def test_missing_or_malformed_authorization_headers_are_a_401_problem(client, header):
    response = client.get("/v1/me", headers={"Authorization": header} if header else {})

    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthorized"


def test_jwks_publishes_the_verification_keys_without_private_parts(app, client, login):
    tokens = login()
    response = client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    keys = response.get_json()["keys"]
    assert all("d" not in key for key in keys)
    kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
    jwk = next(key for key in keys if key["kid"] == kid)
    public = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(jwk))
    claims = jwt.decode(
        tokens["access_token"], public, algorithms=["ES256"], audience="minifin-api"
    )
    assert claims["sub"] == tokens["user"]["id"]
