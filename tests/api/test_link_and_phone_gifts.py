"""Link gifts hand their sender the claim link; phone gifts are claimed by the number's owner."""

from __future__ import annotations

import httpx
import pytest

from service.auth.models import User
from service.extensions import db
from service.gifting.sending import GIFT_TEMPLATE_ID
from tests.conftest import APP_ID, bearer
from tests.gifting_helpers import buy, claim_token_of, messages_about, order, sent_gift


@pytest.fixture
def privileged_app(mock_idp):
    """The platform lets this app read users' mobiles (as it does for privileged apps)."""
    shown = httpx.get(f"{mock_idp.url}/_mock/apps/{APP_ID}").json()

    def register(privileged: bool) -> None:
        httpx.post(
            f"{mock_idp.url}/_mock/apps",
            json={"app_id": APP_ID, "public_key": shown["public_key_pem"],
                  "privileged": privileged},
        ).raise_for_status()  # fmt: skip

    register(True)
    yield
    register(False)


def _messages(mock_idp, platform_user_id: str, gift: dict) -> list[dict]:
    return messages_about(mock_idp, platform_user_id, gift, GIFT_TEMPLATE_ID)


def test_a_link_gift_shows_its_claim_link_to_its_sender_once_sent(
    app, client, template, people, mock_idp
):
    unsent = buy(client, people, order(template, people, recipient={"link": True})).get_json()
    gift = sent_gift(app, client, template, people, mock_idp, recipient={"link": True})

    shown = client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()
    listed = client.get("/v1/gifts", headers=people["sender"]).get_json()["data"]

    assert "claim_url" not in unsent and "claim_token" not in unsent
    assert shown["status"] == "sent"
    assert shown["claim_token"] == claim_token_of(app, gift["id"])
    assert shown["claim_url"] == f"http://127.0.0.1:5000/claim/{shown['claim_token']}"
    assert {g["id"]: g.get("claim_url") for g in listed} == {
        gift["id"]: shown["claim_url"], unsent["id"]: None
    }  # fmt: skip
    stranger = client.get(f"/v1/gifts/{gift['id']}", headers=people["stranger"])
    assert stranger.status_code == 404 and stranger.get_json()["code"] == "gift_not_found"


def test_whoever_claims_a_link_gift_receives_it_and_the_link_is_gone(
    app, client, template, people, mock_idp
):
    gift = sent_gift(app, client, template, people, mock_idp, recipient={"link": True})
    token = client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()[
        "claim_token"
    ]

    claimed = client.post(f"/v1/claims/{token}", headers=people["stranger"])

    assert claimed.status_code == 200
    body = claimed.get_json()
    assert body["status"] == "claimed"
    assert len(body["vouchers"]) == 2
    assert all(v["status"] == "active" and "code" not in v for v in body["vouchers"])
    after = client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()
    assert after["status"] == "claimed" and "claim_url" not in after
    received = client.get("/v1/gifts?role=received", headers=people["stranger"]).get_json()["data"]
    assert [g["id"] for g in received] == [gift["id"]]
    assert "claim_url" not in received[0]


def test_a_gift_for_a_user_shows_its_link_to_that_user_and_not_to_the_sender(
    app, client, template, people, mock_idp, demo_users
):
    gift = sent_gift(app, client, template, people, mock_idp)

    for_sender = client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()
    for_friend = client.get(f"/v1/gifts/{gift['id']}", headers=people["friend"]).get_json()

    assert "claim_token" not in for_sender
    (message,) = _messages(mock_idp, demo_users[1]["user_id"], gift)
    assert message["page"] == f"pages/gift/claim?token={for_friend['claim_token']}"


def test_logging_in_keeps_a_mobile_only_as_its_blind_index(app, login, demo_users, privileged_app):
    user = login(1)["user"]

    with app.app_context():
        row = db.session.get(User, user["id"])
        assert row.phone_hash is not None and len(row.phone_hash) == 64
        assert demo_users[1]["mobile"] not in repr(vars(row))
    assert "phone_hash" not in user


def test_a_phone_gift_reaches_the_app_user_with_that_number_who_claims_it(
    app, client, template, people, mock_idp, demo_users, login, privileged_app
):
    friend = bearer(login(1)["access_token"])  # now known by their mobile
    gift = sent_gift(app, client, template, people, mock_idp,
                     recipient={"phone": demo_users[1]["mobile"]})  # fmt: skip

    received = client.get("/v1/gifts?role=received", headers=friend).get_json()["data"]
    (message,) = _messages(mock_idp, demo_users[1]["user_id"], gift)
    claimed = client.post(f"/v1/claims/{received[0]['claim_token']}", headers=friend)

    assert [g["id"] for g in received] == [gift["id"]]
    assert received[0]["recipient"] == {"kind": "phone", "phone_masked": "139****6402"}
    assert message["page"].endswith(received[0]["claim_token"])
    assert claimed.status_code == 200 and claimed.get_json()["status"] == "claimed"
    assert len(client.get("/v1/vouchers", headers=friend).get_json()["data"]) == 2


def test_a_phone_gift_is_refused_to_another_number_and_to_an_unverified_one(
    app, client, template, people, mock_idp, demo_users, login, privileged_app
):
    gift = sent_gift(app, client, template, people, mock_idp,
                     recipient={"phone": demo_users[1]["mobile"]})  # fmt: skip
    token = claim_token_of(app, gift["id"])
    other_number = bearer(login(2)["access_token"])
    httpx.post(f"{mock_idp.url}/_mock/apps", json={
        "app_id": APP_ID, "privileged": False,
        "public_key": httpx.get(f"{mock_idp.url}/_mock/apps/{APP_ID}").json()["public_key_pem"],
    }).raise_for_status()  # fmt: skip
    unverified = bearer(login(3)["access_token"])

    wrong = client.post(f"/v1/claims/{token}", headers=other_number)
    no_mobile = client.post(f"/v1/claims/{token}", headers=unverified)

    assert wrong.status_code == 403 and wrong.get_json()["code"] == "not_the_recipient"
    assert no_mobile.status_code == 403 and no_mobile.get_json()["code"] == "phone_not_verified"
    assert "mobile" in no_mobile.get_json()["detail"]
    assert client.get("/v1/gifts?role=received", headers=other_number).get_json()["data"] == []
    assert client.get(f"/v1/gifts/{gift['id']}", headers=other_number).status_code == 404


def test_a_phone_gift_for_a_newcomer_gives_its_sender_the_link_to_pass_on(
    app, client, template, people, mock_idp, demo_users, login, privileged_app
):
    newcomer = demo_users[7]  # has never opened the app
    gift = sent_gift(app, client, template, people, mock_idp,
                     recipient={"phone": newcomer["mobile"]})  # fmt: skip

    shown = client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()
    assert _messages(mock_idp, newcomer["user_id"], gift) == []
    assert shown["claim_url"].endswith(f"/claim/{shown['claim_token']}")

    arrived = bearer(login(7)["access_token"])
    received = client.get("/v1/gifts?role=received", headers=arrived).get_json()["data"]
    claimed = client.post(f"/v1/claims/{shown['claim_token']}", headers=arrived)

    assert [g["id"] for g in received] == [gift["id"]]
    assert claimed.status_code == 200
