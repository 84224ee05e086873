"""A deposit waiver end to end in headless Chromium: Minifin signs the orderStr, the user sees the
platform's cashier (the title, the amount and the part credit waives), confirms, and Minifin,
served on a loopback port, hears the freeze notification and holds the deposit."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import auth_code, bearer
from tests.credit_helpers import consent, start_deposit
from tests.integration.test_gift_story import wait_for
from tests.live_server import LiveServer, served_minifin

LIU_YANG = 3  # waiver limit 5 000 yuan


@pytest.fixture
def minifin(app, app_env) -> Iterator[LiveServer]:
    """Minifin on a loopback port (on the session's migrated database) to receive notifications."""
    with served_minifin(app_env) as live:
        yield live


@pytest.fixture
def renter(minifin, mock_idp, demo_users) -> dict:
    api = httpx.Client(base_url=minifin.url, timeout=15)
    platform_id = demo_users[LIU_YANG]["user_id"]
    tokens = api.post("/v1/sessions", json={"auth_code": auth_code(mock_idp.url, platform_id)})
    token = tokens.json()["access_token"]
    consent(api, token, mock_idp.url, platform_id, "deposit_waiver")
    yield {"api": api, "headers": bearer(token), "token": token}
    api.close()


def _cashier_url(mock_url: str, deposit: dict) -> str:
    """What `my.tradePay({orderStr})` opens: the gateway with the signed parameters."""
    return f"{mock_url}/gateway.do?{deposit['order_str']}"


def test_confirming_in_the_cashier_holds_the_deposit_with_the_waived_part(page, renter, mock_idp):
    api, headers = renter["api"], renter["headers"]
    deposit = start_deposit(api, renter["token"], 600000, title="电动车押金").json()

    page.goto(_cashier_url(mock_idp.url, deposit))
    assert page.get_by_test_id("title").inner_text() == "电动车押金"
    assert page.get_by_test_id("amount").inner_text() == "¥6000.00"
    assert page.get_by_test_id("credit-amount").inner_text() == "¥5000.00"
    assert page.get_by_test_id("fund-amount").inner_text() == "¥1000.00"
    page.get_by_role("button", name="确认授权 Confirm").click()
    assert page.get_by_test_id("result-code").inner_text() == "9000"

    held = wait_for(
        lambda: (
            (d := api.get(f"/v1/credit/deposits/{deposit['id']}", headers=headers).json())["status"]
            == "held"
            and d
        )
    )
    assert (held["credit_amount_fen"], held["fund_amount_fen"]) == (500000, 100000)
    assert held["auth_no"] == page.get_by_test_id("auth-no").inner_text()


def test_cancelling_in_the_cashier_leaves_the_deposit_waiting(page, renter, mock_idp):
    api, headers = renter["api"], renter["headers"]
    deposit = start_deposit(api, renter["token"], 9900).json()

    page.goto(_cashier_url(mock_idp.url, deposit))
    page.get_by_role("button", name="取消 Cancel").click()

    assert page.get_by_test_id("result-code").inner_text() == "6001"
    after = api.get(f"/v1/credit/deposits/{deposit['id']}", headers=headers).json()
    assert after["status"] == "awaiting_user" and after["order_str"] == deposit["order_str"]
