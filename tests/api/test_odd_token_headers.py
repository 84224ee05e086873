"""Access tokens with odd JOSE headers, bad parts or no `nbf` are a 401 problem, never a 500.

The header is read in one place (service/auth/tokens.read_header) before any key lookup; the
tokens here are signed with our real key, so only the header's shape can refuse them.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm

from service.components import token_keys
from tests.conftest import bearer

AUTHENTICATED_ROUTES = [
    ("get", "/v1/me"),
    ("get", "/v1/gifts"),
    ("get", "/v1/identity"),
    ("get", "/v1/credit/consents"),
    ("get", "/v1/voucher-templates"),
    ("delete", "/v1/sessions/current"),
]
GENERATED = settings(
    max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@pytest.fixture
def signer(app):
    """Signs any header and claims with the app's real signing key."""
    with app.app_context():
        keys = token_keys()
        key, kid = keys._keys[keys.signing_kid].private_key, keys.signing_kid
    algorithm = ECAlgorithm(ECAlgorithm.SHA256)

    def sign(header, claims: dict) -> str:
        head = _b64(json.dumps(header).encode())
        body = _b64(json.dumps(claims).encode())
        signature = algorithm.sign(f"{head}.{body}".encode(), key)
        return f"{head}.{body}.{_b64(signature)}"

    sign.kid = kid
    return sign


@pytest.fixture
def claims(login):
    user = login()
    now = int(time.time())
    from jwt import decode

    issued = decode(user["access_token"], options={"verify_signature": False})
    return {**issued, "iat": now, "nbf": now, "exp": now + 600}


def _assert_invalid_token(response, code: str | None = None) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    if code:
        assert response.get_json()["code"] == code


def test_the_well_formed_token_signed_here_is_accepted(client, signer, claims):
    token = signer({"alg": "ES256", "typ": "at+jwt", "kid": signer.kid}, claims)
    assert client.get("/v1/me", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize(
    "odd",
    [
        {"kid": 7},
        {"kid": 7.5},
        {"kid": ["k"]},
        {"kid": {"k": 1}},
        {"kid": None},
        {"kid": True},
        {"crit": ["exp"]},
        {"crit": []},
        {"b64": False, "crit": ["b64"]},
        {"jku": "https://attacker.example/jwks.json"},
        {"x5u": "https://attacker.example/cert"},
        {"jwk": {"kty": "EC"}},
        {"typ": 1},
        {"alg": ["ES256"]},
        {"cty": "JWT"},
        {"zip": "DEF"},
    ],
)
@pytest.mark.parametrize(("method", "path"), AUTHENTICATED_ROUTES)
def test_an_odd_jose_header_is_a_401_on_every_authenticated_route(
    client, signer, claims, odd, method, path
):
    header = {"alg": "ES256", "typ": "at+jwt", "kid": signer.kid, **odd}

    response = getattr(client, method)(path, headers=bearer(signer(header, claims)))

    _assert_invalid_token(response)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)


@given(
    extra=st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=3),
    kid=JSON_VALUES,
    drop=st.sets(st.sampled_from(["alg", "typ", "kid"])),
)
@GENERATED
def test_generated_jose_headers_are_a_401_unless_exactly_ours(
    client, signer, claims, extra, kid, drop
):
    header = {"alg": "ES256", "typ": "at+jwt", "kid": kid, **extra}
    for name in drop:
        header.pop(name, None)

    response = client.get("/v1/me", headers=bearer(signer(header, claims)))

    exactly_ours = header == {"alg": "ES256", "typ": "at+jwt", "kid": signer.kid}
    if exactly_ours:
        assert response.status_code == 200
    else:
        _assert_invalid_token(response)


@given(header=JSON_VALUES.filter(lambda value: not isinstance(value, dict)))
@GENERATED
def test_generated_headers_that_are_not_json_objects_are_a_401(client, signer, claims, header):
    response = client.get("/v1/me", headers=bearer(signer(header, claims)))

    _assert_invalid_token(response, "malformed_token")


SEGMENT = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)


@given(part=st.sampled_from([0, 1, 2]), garbage=SEGMENT)
@GENERATED
def test_bad_base64_or_json_in_any_part_is_a_401(client, signer, claims, part, garbage):
    parts = signer({"alg": "ES256", "typ": "at+jwt", "kid": signer.kid}, claims).split(".")
    parts[part] = garbage

    response = client.get("/v1/me", headers=bearer(".".join(parts)))

    _assert_invalid_token(response)


def test_a_token_without_nbf_is_refused_as_the_module_says(client, signer, claims):
    without = {name: value for name, value in claims.items() if name != "nbf"}

    response = client.get(
        "/v1/me",
        headers=bearer(signer({"alg": "ES256", "typ": "at+jwt", "kid": signer.kid}, without)),
    )

    _assert_invalid_token(response, "missing_claim")


def test_odd_headers_are_refused_before_any_key_lookup(app, monkeypatch):
    from service.auth.tokens import InvalidToken

    with app.app_context():
        keys = token_keys()
    looked_up = []
    monkeypatch.setattr(keys, "_reload_if_changed", lambda *a: looked_up.append(a))
    header = _b64(json.dumps({"alg": "ES256", "typ": "at+jwt", "kid": "nope", "x": 1}).encode())

    with pytest.raises(InvalidToken, match="invalid_token_header"):
        keys._verify_signed(f"{header}.e30.c2ln")
    assert looked_up == []
