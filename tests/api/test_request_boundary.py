"""The request boundary (service/http.py): text that is not Unicode, chunked bodies over the
limit and `Retry-After`, the same on every route, logged in or not.

An unpaired UTF-16 surrogate is valid in a JSON string (`"\\ud800"`) and travels in a URL as the
bytes ED A0 80; Python keeps it, no encoder writes it, so further in it became a 500.
"""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import bearer
from tests.live_server import served_minifin

GENERATED = settings(
    max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
DIRTY_TEXT = st.tuples(st.text(max_size=6), SURROGATE, st.text(max_size=6)).map("".join)
WIRE_SURROGATES = ["%ED%A0%80", "%ED%BF%BF", "%ED%B0%80", "%ED%A0%BDx"]


def _routes(app) -> list[tuple[str, str]]:
    """Every (method, path) of the app, path parameters filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", "x")
            for converter in ("string", "int", "path"):
                path = path.replace(f"<{converter}:{argument}>", "1")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return found


@st.composite
def bodies_with_a_surrogate(draw) -> dict:
    """A JSON object with a lone surrogate somewhere: a value or a member name, at any depth."""
    value = draw(DIRTY_TEXT)
    for wrap in draw(st.lists(st.sampled_from(["object", "list", "name"]), max_size=4)):
        if wrap == "object":
            value = {draw(st.text(max_size=8)): value}
        elif wrap == "list":
            value = [draw(st.integers()), value]
        else:
            value = {draw(DIRTY_TEXT): value}
    return value if isinstance(value, dict) else {draw(st.text(max_size=8)): value}


@pytest.fixture
def user(login):
    return bearer(login()["access_token"])


@pytest.fixture(scope="module")
def live(app_env):
    """Minifin over real HTTP: the test client cannot send bytes that are not UTF-8 in a path."""
    with served_minifin(app_env) as server, httpx.Client(base_url=server.url) as http:
        yield http


def _assert_invalid_text(response) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    body = response.get_json()
    if response.request.path == "/v1/oauth/token":  # an OAuth error that is a problem too
        assert response.mimetype == "application/json" and body["error"] == "invalid_request"
    else:
        assert response.mimetype == "application/problem+json"
    assert body["code"] == "invalid_text"


def test_every_route_is_found(app):
    routes = _routes(app)
    assert ("POST", "/v1/gifts") in routes and ("PATCH", "/v1/voucher-templates/x") in routes
    assert len(routes) > 40


@given(data=st.data(), body=bodies_with_a_surrogate(), logged_in=st.booleans())
@GENERATED
def test_a_lone_surrogate_in_any_json_body_is_a_400_on_every_route(
    app, client, user, data, body, logged_in
):
    method, path = data.draw(
        st.sampled_from([r for r in _routes(app) if r[0] in {"POST", "PUT", "PATCH", "DELETE"}])
    )
    headers = {"Content-Type": "application/json", **(user if logged_in else {})}

    response = client.open(path, method=method, data=json.dumps(body), headers=headers)

    _assert_invalid_text(response)


@given(data=st.data(), wire=st.sampled_from(WIRE_SURROGATES), logged_in=st.booleans())
@GENERATED
def test_a_surrogate_in_a_query_string_or_a_path_segment_is_a_400_on_every_route(
    app, live, user, data, wire, logged_in
):
    method, path = data.draw(st.sampled_from(_routes(app)))
    headers = user if logged_in else {}

    in_query = live.request(method, f"{path}?q={wire}&{wire}=1", headers=headers)
    segments = path.rstrip("/").split("/")
    segments[data.draw(st.integers(1, len(segments) - 1))] = wire
    in_path = live.request(method, "/".join(segments), headers=headers)

    for response in (in_query, in_path):
        assert response.status_code == 400, (method, path, response.text[:300])
        assert response.json()["code"] == "invalid_text"


def test_a_surrogate_in_a_form_body_is_a_400(client):
    response = client.post(
        "/v1/oauth/token",
        data="grant_type=client_credentials&client_id=%ED%A0%80",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_text"


def test_plain_unicode_in_paths_queries_and_bodies_is_still_accepted(client, user):
    listed = client.get("/v1/gifts?role=sent&note=%E7%A4%BC%E7%89%A9", headers=user)
    assert listed.status_code in {200, 422}  # "note" is an unknown parameter, not bad text
    missing = client.get("/v1/gifts/%E7%A4%BC%E7%89%A9", headers=user)
    assert missing.status_code == 404
    escaped = client.get("/v1/gifts/%25ED%25A0%2580", headers=user)  # "%ED…" as text is fine
    assert escaped.status_code == 404


def _chunks(total: int, size: int = 4096):
    sent = 0
    yield b'{"auth_code": "'
    while sent < total:
        yield b"a" * min(size, total - sent)
        sent += size
    yield b'"}'


def test_a_chunked_body_over_the_limit_is_a_413_like_a_sized_one(app, app_env):
    limit = app.config["MAX_CONTENT_LENGTH"]
    with served_minifin(app_env) as live:
        chunked = httpx.post(
            f"{live.url}/v1/sessions",
            content=_chunks(limit + 10),
            headers={"Content-Type": "application/json"},
        )
        sized = httpx.post(
            f"{live.url}/v1/sessions",
            content=b"".join(_chunks(limit + 10)),
            headers={"Content-Type": "application/json"},
        )
        small = httpx.post(
            f"{live.url}/v1/sessions",
            content=_chunks(600),
            headers={"Content-Type": "application/json"},
        )

    assert "content-length" not in chunked.request.headers
    assert chunked.status_code == sized.status_code == 413, chunked.text
    assert chunked.json()["code"] == "payload_too_large"
    assert small.status_code == 422  # read whole and parsed: the code is too long
    assert small.json()["errors"]["auth_code"]


def test_retry_after_is_sent_only_with_429_and_503(app_env, mock_idp, demo_users):
    from service import create_app
    from tests.conftest import auth_code

    limited = create_app({**app_env, "MINIFIN_LOGIN_RATE_LIMIT": "2 per minute"})
    client = limited.test_client()
    created = client.post(
        "/v1/sessions", json={"auth_code": auth_code(mock_idp.url, demo_users[0]["user_id"])}
    )
    invalid = client.post("/v1/sessions", json={})
    refused = client.post("/v1/sessions", json={"auth_code": "abc"})

    assert created.status_code == 201 and "Retry-After" not in created.headers
    assert invalid.status_code == 422 and "Retry-After" not in invalid.headers
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert created.headers["X-RateLimit-Limit"]  # the limiter's own headers stay
    limited.extensions["minifin"].gateway.close()
