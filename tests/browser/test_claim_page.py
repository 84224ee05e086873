"""The claim page in headless Chromium: preview, login at the platform's page, claim, codes."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from service.components import field_cipher
from service.extensions import db
from service.gifting.models import Voucher
from tests.conftest import bearer
from tests.gifting_helpers import COFFEE, claim_token_of, client_token, sent_gift
from tests.live_server import served_minifin

AUTHORIZE_PATH = "/oauth2/publicAppAuthorize.htm"


@pytest.fixture
def minifin(app, app_env):
    """Minifin on a real port (the session's database), its public URL pointing there."""
    with served_minifin(app_env) as live:
        yield live


@pytest.fixture
def gift_for_friend(app, client, minifin, mock_idp, login, demo_users):
    """A gift from the first demo user to the second, sent, with its claim page's URL."""
    merchant = bearer(client_token(app, client, "templates:write"))
    covers = [{"name": "birthday", "image_url": f"{minifin.url}/static/covers/birthday.svg"}]
    template = client.post(
        "/v1/voucher-templates", json={**COFFEE, "covers": covers}, headers=merchant
    ).get_json()
    sender, friend = login(0), login(1)
    people = {"sender": bearer(sender["access_token"]), "friend_id": friend["user"]["id"]}
    gift = sent_gift(app, client, template, people, mock_idp)
    token = claim_token_of(app, gift["id"])
    return {**gift, "token": token, "url": f"{minifin.url}/claim/{token}",
            "friend": bearer(friend["access_token"])}  # fmt: skip


def _log_in_at_the_platform(page, mock_idp, user_id: str) -> None:
    page.get_by_role("button", name="Log in with Alipay").click()
    page.wait_for_url(f"{mock_idp.url}{AUTHORIZE_PATH}?**")
    page.locator(f"input[type=radio][name=user_id][value='{user_id}']").check()
    page.get_by_role("button", name="同意 Approve").click()


def test_the_friend_logs_in_on_the_claim_page_claims_and_sees_the_codes(
    app, page, gift_for_friend, mock_idp, demo_users
):
    response = page.goto(gift_for_friend["url"])

    assert response.status == 200
    headers = response.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert demo_users[0]["nick_name"] in page.get_by_test_id("headline").inner_text()
    assert page.get_by_test_id("message").inner_text() == gift_for_friend["message"]
    assert page.get_by_test_id("cover").evaluate("img => img.complete && img.naturalWidth > 0")

    _log_in_at_the_platform(page, mock_idp, demo_users[1]["user_id"])
    page.wait_for_url(gift_for_friend["url"])
    page.get_by_role("button", name="Claim").wait_for()
    assert demo_users[1]["nick_name"] in page.locator("#who").inner_text()
    page.get_by_role("button", name="Claim").click()
    page.get_by_test_id("voucher").nth(1).wait_for()

    shown = sorted(page.locator("#voucher-list code").all_inner_texts())
    with app.app_context():
        vouchers = db.session.scalars(db.select(Voucher)).all()
        codes = sorted(field_cipher().open(v.code_sealed, owner=v.id) for v in vouchers)
    assert shown == codes
    assert page.evaluate("Object.keys(sessionStorage)") == []  # the borrowed login has ended


def test_the_claim_token_never_reaches_the_platform(page, gift_for_friend, mock_idp):
    seen: list[str] = []
    page.on(
        "request",
        lambda request: (
            seen.append(f"{request.url} {request.headers.get('referer', '')}")
            if request.url.startswith(mock_idp.url)
            else None
        ),
    )
    page.goto(gift_for_friend["url"])

    page.get_by_role("button", name="Log in with Alipay").click()
    page.wait_for_url(f"{mock_idp.url}{AUTHORIZE_PATH}?**")

    assert seen and not any(gift_for_friend["token"] in line for line in seen)
    assert page.evaluate("document.referrer") == ""
    assert urlsplit(page.url).query.count("redirect_uri=http") == 1


def test_someone_else_who_logs_in_is_told_the_gift_is_not_theirs(
    page, gift_for_friend, mock_idp, demo_users
):
    page.goto(gift_for_friend["url"])

    _log_in_at_the_platform(page, mock_idp, demo_users[2]["user_id"])
    page.wait_for_url(gift_for_friend["url"])
    page.get_by_role("button", name="Claim").click()

    problem = page.get_by_test_id("problem")
    problem.wait_for()
    assert "for someone else" in problem.inner_text()
    assert page.get_by_role("button", name="Claim").is_disabled()
    assert page.get_by_test_id("voucher").count() == 0


def test_an_already_claimed_link_says_so_and_offers_no_login(client, page, gift_for_friend):
    claimed = client.post(f"/v1/claims/{gift_for_friend['token']}",
                          headers=gift_for_friend["friend"])  # fmt: skip
    assert claimed.status_code == 200

    page.goto(gift_for_friend["url"])

    assert "already been claimed" in page.get_by_test_id("notice").inner_text()
    assert page.get_by_role("button", name="Log in with Alipay").is_hidden()


def test_an_unknown_claim_link_is_a_404_page(page, minifin):
    response = page.goto(f"{minifin.url}/claim/not-a-real-token")

    assert response.status == 404
    assert "not valid" in page.get_by_test_id("notice").inner_text()


def test_a_login_return_that_was_not_started_here_is_refused(page, minifin):
    page.goto(f"{minifin.url}/claim/return?auth_code=stolen&state=made-up")

    problem = page.get_by_test_id("problem")
    problem.wait_for()
    assert "not started from a gift link here" in problem.inner_text()
    assert "auth_code" not in page.url
