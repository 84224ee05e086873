"""Login end to end: auth code → signed gateway round trips to the live mock → Minifin tokens."""

from __future__ import annotations

import httpx

from tests.conftest import APP_ID, auth_code, bearer


def test_login_with_an_auth_code_returns_tokens_and_the_user(client, mock_idp, demo_users):
    user = demo_users[0]
    response = client.post(
        "/v1/sessions", json={"auth_code": auth_code(mock_idp.url, user["user_id"])}
    )

    assert response.status_code == 201
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["refresh_token"].startswith("mrt_")
    assert body["refresh_expires_in"] > 900
    assert body["user"]["id"].startswith("usr_")
    assert body["user"]["nickname"] == user["nick_name"]
    assert response.headers["Cache-Control"] == "no-store"
    assert user["nick_name"].encode("utf-8") in response.data  # raw UTF-8, not \u escapes
    assert next(iter(body)) == "token_type"

    me = client.get("/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["id"] == body["user"]["id"]


def test_logging_in_twice_finds_the_same_user(login):
    first = login(0)
    second = login(0)
    assert first["user"]["id"] == second["user"]["id"]
    assert first["refresh_token"] != second["refresh_token"]


def test_different_platform_users_become_different_users(login):
    assert login(0)["user"]["id"] != login(1)["user"]["id"]


def test_a_silent_auth_base_login_works_without_a_profile(client, mock_idp, demo_users):
    code = auth_code(mock_idp.url, demo_users[2]["user_id"], scopes=("auth_base",))
    response = client.post("/v1/sessions", json={"auth_code": code})

    assert response.status_code == 201
    assert response.get_json()["user"]["nickname"] is None


def test_an_auth_code_works_only_once(client, mock_idp, demo_users):
    code = auth_code(mock_idp.url, demo_users[0]["user_id"])
    assert client.post("/v1/sessions", json={"auth_code": code}).status_code == 201

    again = client.post("/v1/sessions", json={"auth_code": code})

    assert again.status_code == 400
    assert again.mimetype == "application/problem+json"
    assert again.get_json()["code"] == "auth_code_invalid"


def test_an_unknown_auth_code_is_refused(client):
    response = client.post("/v1/sessions", json={"auth_code": "not-a-code"})

    assert response.status_code == 400
    assert response.get_json()["code"] == "auth_code_invalid"


def test_the_login_makes_two_signed_calls_to_the_gateway(client, mock_idp, demo_users):
    code = auth_code(mock_idp.url, demo_users[3]["user_id"])
    before = httpx.get(f"{mock_idp.url}/_mock/calls").json()["calls"]
    last_id = before[-1]["id"] if before else 0  # the log keeps only the latest calls

    assert client.post("/v1/sessions", json={"auth_code": code}).status_code == 201

    after = httpx.get(f"{mock_idp.url}/_mock/calls").json()["calls"]
    calls = [call for call in after if call["id"] > last_id]
    assert [c["method"] for c in calls] == ["alipay.system.oauth.token", "alipay.user.info.share"]
    assert all(c["app_id"] == APP_ID for c in calls)
