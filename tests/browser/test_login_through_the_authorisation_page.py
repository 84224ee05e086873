"""A person logs in through the authorisation page in headless Chromium, then into Minifin."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from flask import Flask

from tests.conftest import APP_ID, bearer
from tests.live_server import LiveServer


@pytest.fixture(scope="module")
def callback_page():
    """The page a web front end would serve at its redirect_uri."""
    app = Flask("front_end")
    app.add_url_rule("/logged-in", "logged_in", lambda: "<h1>Back from the platform</h1>")
    with LiveServer(app) as live:
        yield live


def test_a_user_chosen_on_the_page_logs_in_to_minifin(
    client, mock_idp, demo_users, callback_page, page
):
    chosen = demo_users[6]
    query = httpx.QueryParams(
        app_id=APP_ID,
        scope="auth_user",
        redirect_uri=f"{callback_page.url}/logged-in",
        state="login-7",
    )
    page.goto(f"{mock_idp.url}/oauth2/publicAppAuthorize.htm?{query}")
    page.locator(f"input[type=radio][name=user_id][value='{chosen['user_id']}']").check()
    page.get_by_role("button", name="同意 Approve").click()
    page.wait_for_url(f"{callback_page.url}/logged-in?**")
    returned = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert page.get_by_role("heading").inner_text() == "Back from the platform"

    assert returned["state"] == "login-7"
    login = client.post("/v1/sessions", json={"auth_code": returned["auth_code"]})
    assert login.status_code == 201
    me = client.get("/v1/me", headers=bearer(login.get_json()["access_token"])).get_json()
    assert me["nickname"] == chosen["nick_name"]
