"""The mock's authorisation page in headless Chromium: choose a user, approve or deny, go back."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from flask import Flask, jsonify, request

from tests.live_server import LiveServer
from tests.mock_idp_helpers import TEST_APP_ID

AUTHORIZE_PATH = "/oauth2/publicAppAuthorize.htm"
CHOSEN_USER = "2088102154247082"  # 王芳, second in the demo list (the first is preselected)


@pytest.fixture(scope="module")
def receiver():
    """The merchant's callback: shows what the authorisation page sent back."""
    app = Flask("receiver")

    @app.get("/callback")
    def callback():
        return jsonify(received=request.args.to_dict())

    with LiveServer(app) as live:
        yield live


@pytest.fixture
def mock(standalone_mock, app_key, receiver, key_mode):
    return standalone_mock.reset_with_test_app(
        app_key, name="礼物小程序", redirect_uris=[receiver.url + "/"], key_mode=key_mode
    )


def authorize_url(mock, receiver, scope="auth_user", state="st-42", app_id=TEST_APP_ID):
    query = httpx.QueryParams(
        app_id=app_id, scope=scope, redirect_uri=receiver.url + "/callback?from=mock", state=state
    )
    return f"{mock.url}{AUTHORIZE_PATH}?{query}"


def test_approving_returns_a_code_that_exchanges_for_the_chosen_user(page, mock, receiver, app_key):
    page.goto(authorize_url(mock, receiver))
    assert TEST_APP_ID in page.get_by_test_id("app-id").inner_text()
    assert "礼物小程序" in page.content()
    assert "头像、昵称" in page.content()
    choice = page.get_by_label(f"芳芳 *芳 · {CHOSEN_USER}")
    choice.check()
    assert choice.get_attribute("value") == CHOSEN_USER

    page.get_by_role("button", name="同意 Approve").click()
    page.wait_for_url(f"{receiver.url}/callback?**")

    returned = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert returned["from"] == "mock"
    assert returned["app_id"] == TEST_APP_ID
    assert returned["source"] == "alipay_wallet"
    assert returned["scope"] == "auth_user"
    assert returned["state"] == "st-42"
    client = mock.app_client(TEST_APP_ID, app_key)
    reply = client.call(
        "alipay.system.oauth.token", grant_type="authorization_code", code=returned["auth_code"]
    )
    client.close()
    assert reply.inner["code"] == "10000"
    assert reply.inner["user_id"] == CHOSEN_USER
    assert client.verifies(reply)


def test_the_page_lists_demo_users_with_masked_names_and_avatars(page, mock, receiver):
    page.goto(authorize_url(mock, receiver, scope="auth_base,auth_zhima"))

    radios = page.locator("input[type=radio][name=user_id]")
    assert radios.count() >= 20
    assert radios.first.is_checked()
    text = page.inner_text("body")
    assert "***雪" in text and "晓雪" in text  # 欧阳晓雪: nickname and masked name
    assert "张伟" not in text
    assert "芝麻信用" in text
    avatars_loaded = page.evaluate(
        "Array.from(document.images).every(img => img.complete && img.naturalWidth > 0)"
    )
    assert avatars_loaded


def test_denying_returns_access_denied_with_the_state(page, mock, receiver):
    page.goto(authorize_url(mock, receiver, state="keep-me"))

    page.get_by_role("button", name="拒绝 Deny").click()
    page.wait_for_url(f"{receiver.url}/callback?**")

    returned = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert returned["error"] == "access_denied"
    assert returned["error_description"]
    assert returned["state"] == "keep-me"
    assert "auth_code" not in returned


def test_a_submitted_form_cannot_be_replayed(page, mock, receiver):
    page.goto(authorize_url(mock, receiver))
    form = {
        field: page.locator(f"input[name={field}]").first.get_attribute("value")
        for field in ("app_id", "scope", "redirect_uri", "state", "nonce")
    }
    page.get_by_role("button", name="同意 Approve").click()
    page.wait_for_url(f"{receiver.url}/callback?**")

    replay = httpx.post(
        authorize_url(mock, receiver), data={**form, "decision": "approve", "user_id": CHOSEN_USER}
    )

    assert replay.status_code == 400
    assert "Location" not in replay.headers


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"app_id": "2021009999999999"}, "app_id"),
        ({"scope": "auth_everything"}, "scope"),
        ({"redirect_uri": "javascript:alert(1)"}, "redirect_uri"),
        ({"redirect_uri": "https://elsewhere.example/callback"}, "redirect_uri"),
        ({"redirect_uri": "LOOKALIKE"}, "redirect_uri"),
    ],
)
def test_an_invalid_request_shows_an_error_page_and_redirects_nowhere(
    page, mock, receiver, change, message
):
    if change.get("redirect_uri") == "LOOKALIKE":  # registered is receiver.url + "/"
        change = {"redirect_uri": receiver.url + "0/callback"}
    query = httpx.QueryParams(
        {"app_id": TEST_APP_ID, "scope": "auth_user", "redirect_uri": receiver.url + "/callback"}
        | change
    )

    response = page.goto(f"{mock.url}{AUTHORIZE_PATH}?{query}")

    assert response.status == 400
    assert page.url.startswith(mock.url)
    assert message in page.get_by_test_id("error-message").inner_text()
