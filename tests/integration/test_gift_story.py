"""The whole gift story over real HTTP, on both engines: Minifin served on a loopback port, a
`minifin worker` process, and the mock gateway paying, notifying and delivering messages.

Buy, pay at the mock (its `trade_status_sync` arrives at Minifin's public URL), sent by the
worker at `send_at` a few seconds ahead, the friend's message in their inbox, claim, redeem at a
till; cancel with refund; unclaimed expiry with refund; reschedule; link gifts. Nothing here
calls Minifin's code directly except to make a merchant client (an operator's command) and to
move a claim deadline to now, since templates give at least an hour to claim.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from flask_migrate import upgrade

from service import MIGRATIONS_DIR
from service.auth.clients import create_client
from service.extensions import db
from service.gifting.models import Gift
from tests.conftest import auth_code, bearer
from tests.gifting_helpers import COFFEE
from tests.live_server import served_minifin

REPO = Path(__file__).resolve().parents[2]
SOON = timedelta(seconds=3)


def wait_for(what: Callable[[], Any], *, seconds: float = 30, every: float = 0.1) -> Any:
    """Poll until `what()` is truthy; return it, or fail saying how long we waited."""
    deadline = time.monotonic() + seconds
    while True:
        found = what()
        if found:
            return found
        assert time.monotonic() < deadline, f"nothing after {seconds}s"
        time.sleep(every)


class Story:
    """Minifin over HTTP, its worker, the mock, and the people of the story."""

    def __init__(self, url: str, app, mock_url: str, demo_users: list[dict]):
        self.api = httpx.Client(base_url=url, timeout=15)
        self.app = app
        self.mock = httpx.Client(base_url=mock_url, timeout=15)
        self.demo_users = demo_users
        self.people: dict[str, dict] = {}

    def log_in(self, name: str, index: int) -> dict[str, str]:
        code = auth_code(str(self.mock.base_url).rstrip("/"), self.demo_users[index]["user_id"])
        tokens = self.api.post("/v1/sessions", json={"auth_code": code}).json()
        self.people[name] = {"headers": bearer(tokens["access_token"]), "id": tokens["user"]["id"],
                             "platform_id": self.demo_users[index]["user_id"]}  # fmt: skip
        return self.people[name]["headers"]

    def merchant(self, *scopes: str) -> dict[str, str]:
        with self.app.app_context():
            client, secret = create_client("story", list(scopes))
        token = self.api.post("/v1/oauth/token", data={
            "grant_type": "client_credentials", "client_id": client.id, "client_secret": secret,
        }).json()["access_token"]  # fmt: skip
        return bearer(token)

    def gift(self, who: str, gift_id: str) -> dict:
        return self.api.get(f"/v1/gifts/{gift_id}", headers=self.people[who]["headers"]).json()

    def wait_for_status(self, gift_id: str, status: str, seconds: float = 30) -> dict:
        return wait_for(lambda: (g := self.gift("sender", gift_id))["status"] == status and g,
                        seconds=seconds)  # fmt: skip

    def buy_and_pay(self, template_id: str, recipient: dict, send_at: datetime) -> dict:
        """Buy at Minifin, pay at the mock; returns the gift once the notification scheduled it."""
        gift = self.api.post("/v1/gifts", json={
            "template_id": template_id, "quantity": 1, "recipient": recipient, "cover": "birthday",
            "message": "Happy birthday 生日快乐", "send_at": send_at.isoformat(),
        }, headers={**self.people["sender"]["headers"],
                    "Idempotency-Key": os.urandom(8).hex()})  # fmt: skip
        assert gift.status_code == 201, gift.text
        self.mock.post(f"/_mock/trades/{gift.json()['trade_no']}/pay").raise_for_status()
        return self.wait_for_status(gift.json()["id"], "scheduled")

    def inbox(self, who: str, gift: dict, template_id: str) -> list[dict]:
        """Every delivery of one kind of message about a gift (found by its trade, its form_id)."""
        messages = self.mock.get(f"/_mock/inbox/{self.people[who]['platform_id']}").json()
        return [
            m for m in messages["messages"]
            if m["form_id"] == gift["trade_no"] and m["user_template_id"] == template_id
        ]  # fmt: skip

    def close(self) -> None:
        self.api.close()
        self.mock.close()


def _start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    worker = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "worker", "--poll-interval", "0.1"],
        env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_for(lambda: "started (sources:" in log_path.read_text() or worker.poll() is not None)
    assert worker.poll() is None, log_path.read_text()
    return worker


@pytest.fixture
def story(app_env, any_database_url, mock_idp, demo_users, tmp_path) -> Iterator[Story]:
    with served_minifin(app_env, MINIFIN_DATABASE_URL=any_database_url) as live:
        with live.app.app_context():
            upgrade(directory=MIGRATIONS_DIR)
        worker_env = {
            **os.environ, **app_env, "MINIFIN_DATABASE_URL": any_database_url,
            "MINIFIN_PUBLIC_URL": live.url, "PYTHONPATH": str(REPO), "MINIFIN_LOG_LEVEL": "INFO",
        }  # fmt: skip
        worker = _start_worker(worker_env, tmp_path / "worker.log")
        told = Story(live.url, live.app, mock_idp.url, demo_users)
        try:
            told.log_in("sender", 0)
            told.log_in("friend", 1)
            told.log_in("stranger", 2)
            yield told
        finally:
            told.close()
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0, (tmp_path / "worker.log").read_text()
            with live.app.app_context():
                db.engine.dispose()


@pytest.fixture
def template_id(story) -> str:
    merchant = story.merchant("templates:write")
    created = story.api.post("/v1/voucher-templates", json=COFFEE, headers=merchant)
    assert created.status_code == 201, created.text
    return created.json()["id"]


def test_a_gift_is_bought_paid_sent_on_time_claimed_and_redeemed(story, template_id):
    send_at = datetime.now(UTC) + SOON
    gift = story.buy_and_pay(template_id, {"user_id": story.people["friend"]["id"]}, send_at)
    paid = gift["events"][-1]
    assert (paid["type"], paid["detail"]) == ("paid", {"via": "notification"})

    sent = story.wait_for_status(gift["id"], "sent")
    assert datetime.fromisoformat(sent["sent_at"]) >= send_at
    (message,) = wait_for(lambda: story.inbox("friend", gift, "TPL_GIFT_RECEIVED"))
    assert message["data"]["keyword1"] == {"value": "Flat white"}
    token = parse_qs(urlsplit(message["page"]).query)["token"][0]

    friend = story.people["friend"]["headers"]
    preview = story.api.get(f"/v1/claims/{token}", headers=friend).json()
    assert preview["sender_nickname"] == story.demo_users[0]["nick_name"]
    claimed = story.api.post(f"/v1/claims/{token}", headers=friend)
    assert claimed.status_code == 200, claimed.text
    (voucher,) = claimed.json()["vouchers"]
    code = story.api.get(f"/v1/vouchers/{voucher['id']}", headers=friend).json()["code"]

    till = {**story.merchant("vouchers:redeem"), "Idempotency-Key": os.urandom(8).hex()}
    redeemed = story.api.post(f"/v1/vouchers/{code}/redemptions", json={"store_id": "store-7"},
                              headers=till)  # fmt: skip
    assert redeemed.status_code == 201, redeemed.text
    assert redeemed.json()["voucher_id"] == voucher["id"]
    again = story.api.post(f"/v1/vouchers/{code}/redemptions", json={"store_id": "store-7"},
                           headers={**till, "Idempotency-Key": os.urandom(8).hex()})  # fmt: skip
    assert again.status_code == 409 and again.json()["code"] == "voucher_already_redeemed"
    events = [e["type"] for e in story.gift("sender", gift["id"])["events"]]
    assert events == ["created", "paid", "sent", "claimed"]


def test_a_canceled_gift_and_an_unclaimed_one_are_refunded_and_the_sender_told(story, template_id):
    later = story.buy_and_pay(template_id, {"user_id": story.people["friend"]["id"]},
                              datetime.now(UTC) + timedelta(days=2))  # fmt: skip
    soon = story.buy_and_pay(template_id, {"user_id": story.people["friend"]["id"]},
                             datetime.now(UTC) + SOON)  # fmt: skip

    canceled = story.api.post(f"/v1/gifts/{later['id']}/cancel",
                              headers=story.people["sender"]["headers"])  # fmt: skip
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    story.wait_for_status(soon["id"], "sent")
    with story.app.app_context():  # the template gives a day to claim; end it now
        db.session.execute(db.update(Gift).where(Gift.id == soon["id"])
                           .values(claim_expires_at=datetime.now(UTC)))  # fmt: skip
        db.session.commit()

    for gift, why in ((later, "canceled by the sender"), (soon, "not claimed in time")):
        refunded = story.wait_for_status(gift["id"], "refunded")
        assert refunded["events"][-1]["detail"] == {"refunded_fen": gift["amount_fen"]}
        trade = story.mock.get(f"/_mock/trades/{gift['trade_no']}").json()
        assert [r["out_request_no"] for r in trade["refunds"]] == [gift["id"]]
        (notice,) = wait_for(lambda g=gift: story.inbox("sender", g, "TPL_GIFT_REFUNDED"))
        assert notice["data"]["keyword3"] == {"value": why}
    assert story.inbox("friend", later, "TPL_GIFT_RECEIVED") == []  # canceled before it was sent


def test_a_rescheduled_link_gift_goes_at_its_new_time_to_whoever_has_the_link(story, template_id):
    gift = story.buy_and_pay(template_id, {"link": True}, datetime.now(UTC) + timedelta(days=2))
    assert "claim_url" not in gift

    send_at = datetime.now(UTC) + SOON
    moved = story.api.patch(f"/v1/gifts/{gift['id']}", json={"send_at": send_at.isoformat()},
                            headers=story.people["sender"]["headers"])  # fmt: skip
    assert moved.status_code == 200, moved.text
    sent = story.wait_for_status(gift["id"], "sent")
    assert datetime.fromisoformat(sent["sent_at"]) >= send_at
    assert sent["claim_url"] == f"{story.api.base_url}/claim/{sent['claim_token']}"
    page = story.api.get(urlsplit(sent["claim_url"]).path)
    assert page.status_code == 200 and "Flat white" in page.text

    claimed = story.api.post(f"/v1/claims/{sent['claim_token']}",
                             headers=story.people["stranger"]["headers"])  # fmt: skip
    late = story.api.post(f"/v1/claims/{sent['claim_token']}",
                          headers=story.people["friend"]["headers"])  # fmt: skip

    assert claimed.status_code == 200, claimed.text
    assert late.status_code == 409 and late.json()["code"] == "gift_already_claimed"
    after = story.gift("sender", gift["id"])
    assert after["status"] == "claimed" and "claim_url" not in after
    assert [e["type"] for e in after["events"]] == [
        "created", "paid", "rescheduled", "sent", "claimed"
    ]  # fmt: skip
