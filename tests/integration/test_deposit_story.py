"""Deposit waivers over real HTTP, on both engines: Minifin served on a loopback port, the mock
gateway freezing, unfreezing, charging and posting its signed notifications to Minifin's public
URL, and a `minifin worker` process reconciling a freeze whose notification was lost.

Also the guarantee that matters most to a merchant: releases and charges sent concurrently
never take more than the hold, whatever interleaving the engine allows.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from flask_migrate import upgrade

from service import MIGRATIONS_DIR
from service.auth.clients import create_client
from service.extensions import db
from tests.conftest import auth_code, bearer
from tests.credit_helpers import consent, start_deposit
from tests.integration.test_gift_story import REPO, _start_worker, wait_for
from tests.live_server import served_minifin
from tests.mock_idp_helpers import MockIdp

ZHANG_WEI, LIU_YANG, ZHAO_LEI = 0, 3, 6  # waiver limits 2 000, 5 000 and 0 yuan


class Rental:
    """Minifin over HTTP, the mock, a merchant's settling client and the renters."""

    def __init__(self, url: str, app, mock: MockIdp, demo_users: list[dict]):
        self.api = httpx.Client(base_url=url, timeout=30)
        self.app = app
        self.mock = mock
        self.demo_users = demo_users
        with app.app_context():
            client, secret = create_client("rental desk", ["deposits:settle"])
        token = self.api.post("/v1/oauth/token", data={
            "grant_type": "client_credentials", "client_id": client.id, "client_secret": secret,
        }).json()["access_token"]  # fmt: skip
        self.merchant = bearer(token)

    def renter(self, index: int) -> dict:
        platform_id = self.demo_users[index]["user_id"]
        code = auth_code(self.mock.url, platform_id)
        tokens = self.api.post("/v1/sessions", json={"auth_code": code}).json()
        token = tokens["access_token"]
        consent(self.api, token, self.mock.url, platform_id, "deposit_waiver")
        return {"headers": bearer(token), "token": token, "platform_id": platform_id}

    def deposit(self, person: dict, deposit_id: str) -> dict:
        return self.api.get(f"/v1/credit/deposits/{deposit_id}", headers=person["headers"]).json()

    def held(self, person: dict, amount_fen: int, *, notify: bool = True) -> dict:
        """Start a deposit, confirm it at the mock's cashier, wait until Minifin holds it."""
        started = start_deposit(self.api, person["token"], amount_fen)
        assert started.status_code == 201, started.text
        self.mock.frozen(started.json()["order_str"], user_id=person["platform_id"], notify=notify)
        return wait_for(lambda: (d := self.deposit(person, started.json()["id"]))["status"]
                        == "held" and d)  # fmt: skip

    def settle(self, deposit_id: str, action: str, body: dict, key: str | None = None):
        headers = {**self.merchant, "Idempotency-Key": key or secrets.token_hex(8)}
        return self.api.post(f"/v1/credit/deposits/{deposit_id}/{action}", json=body,
                             headers=headers)  # fmt: skip

    def order(self, auth_no: str) -> dict:
        return self.mock.fund_auth(auth_no)

    def close(self) -> None:
        self.api.close()


@pytest.fixture
def rental(app_env, any_database_url, mock, demo_users, tmp_path) -> Iterator[Rental]:
    overrides = {"MINIFIN_DATABASE_URL": any_database_url, "MINIFIN_DEPOSIT_RECONCILE_SECONDS": "1"}
    with served_minifin(app_env, **overrides) as live:
        with live.app.app_context():
            upgrade(directory=MIGRATIONS_DIR)
        worker_env = {
            **os.environ, **app_env, **overrides, "MINIFIN_PUBLIC_URL": live.url,
            "PYTHONPATH": str(REPO), "MINIFIN_LOG_LEVEL": "INFO", "PYTHONFAULTHANDLER": "1",
        }  # fmt: skip
        worker = _start_worker(worker_env, tmp_path / "worker.log")
        story = Rental(live.url, live.app, mock, demo_users)
        try:
            yield story
        finally:
            story.close()
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.send_signal(signal.SIGABRT)  # faulthandler writes where it is stuck
                worker.wait(timeout=10)
            assert worker.returncode == 0, (tmp_path / "worker.log").read_text()
            with live.app.app_context():
                db.engine.dispose()


@pytest.mark.parametrize(
    ("who", "amount_fen", "credit_fen", "fund_fen"),
    [(ZHANG_WEI, 9900, 9900, 0), (LIU_YANG, 600000, 500000, 100000), (ZHAO_LEI, 9900, 0, 9900)],
    ids=["full waiver", "partial waiver", "no waiver"],
)
def test_a_deposit_is_held_released_in_part_and_charged_the_rest(
    rental, who, amount_fen, credit_fen, fund_fen
):
    person = rental.renter(who)

    deposit = rental.held(person, amount_fen)
    assert (deposit["credit_amount_fen"], deposit["fund_amount_fen"]) == (credit_fen, fund_fen)
    release = rental.settle(deposit["id"], "release", {"amount_fen": amount_fen // 3})
    charge = rental.settle(deposit["id"], "charges", {"amount_fen": amount_fen - amount_fen // 3,
                                                      "reason": "damaged"})  # fmt: skip

    assert release.status_code == 200, release.text
    assert charge.status_code == 201, charge.text
    final = charge.json()
    assert final["status"] == "settled"
    assert final["released_fen"] + final["charged_fen"] == amount_fen
    assert [op["kind"] for op in final["operations"]] == ["freeze", "release", "charge"]
    order = rental.order(deposit["auth_no"])
    assert order["rest_fen"] == 0, order


def test_a_deposit_whose_freeze_notification_was_lost_is_held_by_the_worker(rental):
    person = rental.renter(LIU_YANG)

    deposit = rental.held(person, 600000, notify=False)  # waits for the worker's reconciliation

    assert (deposit["credit_amount_fen"], deposit["fund_amount_fen"]) == (500000, 100000)
    assert [op["kind"] for op in deposit["operations"]] == ["freeze"]


def test_concurrent_releases_and_charges_never_exceed_the_hold(rental):
    person = rental.renter(ZHANG_WEI)
    deposit = rental.held(person, 10000)
    requests = [("release" if i % 2 else "charges", random.randint(400, 1600)) for i in range(20)]

    def send(request: tuple[str, int]) -> httpx.Response:
        action, amount = request
        body = {"amount_fen": amount} | ({"reason": "usage"} if action == "charges" else {})
        return rental.settle(deposit["id"], action, body)

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(send, requests))

    statuses = sorted({answer.status_code for answer in answers})
    assert set(statuses) <= {200, 201, 409}, [a.text for a in answers if a.status_code >= 500]
    accepted = [amount for (_, amount), answer in zip(requests, answers, strict=True)
                if answer.status_code in (200, 201)]  # fmt: skip
    refused = [a.json()["code"] for a in answers if a.status_code == 409]
    assert set(refused) <= {"amount_exceeds_remaining"}
    final = rental.deposit(person, deposit["id"])
    taken = final["released_fen"] + final["charged_fen"]
    assert taken == sum(accepted) <= 10000
    succeeded = [op for op in final["operations"] if op["kind"] != "freeze"]
    assert all(op["status"] == "succeeded" for op in succeeded)
    assert sum(op["amount_fen"] for op in succeeded) == taken
    order = rental.order(deposit["auth_no"])
    assert order["rest_fen"] == 10000 - taken, order


def test_a_retried_charge_reuses_its_trade_number_and_charges_once(rental):
    person = rental.renter(ZHANG_WEI)
    deposit = rental.held(person, 9900)

    answers = [rental.settle(deposit["id"], "charges", {"amount_fen": 1500, "reason": "1 h"},
                             key="charge-1") for _ in range(3)]  # fmt: skip

    assert [a.status_code for a in answers] == [201, 201, 201]
    final = rental.deposit(person, deposit["id"])
    (charge,) = [op for op in final["operations"] if op["kind"] == "charge"]
    assert final["charged_fen"] == 1500
    trade = rental.mock.trade(charge["trade_no"])
    assert trade["out_trade_no"] == charge["request_no"]
    assert rental.order(deposit["auth_no"])["rest_fen"] == 9900 - 1500
