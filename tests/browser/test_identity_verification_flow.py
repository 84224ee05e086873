"""Real-name authentication end to end in headless Chromium: Minifin hands out the signed
face-scan URL, the user scans on the platform's page, lands back in the app, and is verified."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.conftest import bearer
from tests.identity_helpers import ZHANG_WEI, start
from tests.live_server import LiveServer


@pytest.fixture(scope="module")
def mini_program():
    """The page the face scan returns to, standing in for the mini-program's own page."""
    app = Flask("mini_program")

    @app.get("/after-verification")
    def after_verification():
        return "<!doctype html><title>back</title><h1 data-testid='back'>Back in the app</h1>"

    with LiveServer(app) as live:
        yield live


def test_scanning_on_the_certify_page_lands_on_the_return_url_and_verifies_the_user(
    page, client, login, mini_program
):
    token = login(0)["access_token"]
    return_url = f"{mini_program.url}/after-verification"
    verification = start(client, token, return_url=return_url).get_json()

    page.goto(verification["certify_url"])
    assert page.get_by_test_id("name").inner_text() == "*伟"
    assert ZHANG_WEI["id_number"] not in page.content()
    page.get_by_role("button", name="开始刷脸 Scan face").click()

    page.wait_for_url(return_url)
    assert page.get_by_test_id("back").inner_text() == "Back in the app"
    refreshed = client.get(
        f"/v1/identity/verifications/{verification['id']}", headers=bearer(token)
    ).get_json()
    assert refreshed["status"] == "passed"
    identity = client.get("/v1/identity", headers=bearer(token)).get_json()
    assert (identity["verified"], identity["name"], identity["is_adult"]) == (True, "*伟", True)


def test_failing_the_scan_lands_on_the_return_url_and_the_attempt_has_failed(
    page, client, login, mini_program
):
    token = login(0)["access_token"]
    return_url = f"{mini_program.url}/after-verification"
    verification = start(client, token, return_url=return_url).get_json()

    page.goto(verification["certify_url"])
    page.get_by_text("模拟失败 Fail on purpose").click()
    page.get_by_label("失败原因").select_option("活体检测未通过（LIVENESS_FAILED）")
    page.get_by_role("button", name="认证失败 Fail").click()

    page.wait_for_url(return_url)
    refreshed = client.get(
        f"/v1/identity/verifications/{verification['id']}", headers=bearer(token)
    ).get_json()
    assert (refreshed["status"], refreshed["fail_reason"]) == ("failed", "liveness_failed")
    assert client.get("/v1/identity", headers=bearer(token)).get_json()["verified"] is False
