"""Claiming a sent gift with its link, and the wallet: codes only for their owner."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from service.extensions import db
from service.gifting.models import Gift
from service.gifting.sending import GIFT_TEMPLATE_ID
from tests.conftest import bearer
from tests.gifting_helpers import claim_token_of, messages_about, sent_gift


def _token_from_inbox(mock_idp, platform_user_id: str, gift: dict) -> str:
    (message,) = messages_about(mock_idp, platform_user_id, gift, GIFT_TEMPLATE_ID)
    page = message["page"]
    return parse_qs(urlsplit(page).query)["token"][0]


def test_the_recipient_claims_from_the_message_and_sees_full_codes(
    app, client, template, people, mock_idp, demo_users
):
    gift = sent_gift(app, client, template, people, mock_idp)
    token = _token_from_inbox(mock_idp, demo_users[1]["user_id"], gift)

    preview = client.get(f"/v1/claims/{token}", headers=people["friend"])
    claimed = client.post(f"/v1/claims/{token}", headers=people["friend"])

    assert preview.status_code == 200
    assert preview.get_json()["message"] == gift["message"]
    assert preview.get_json()["sender_nickname"] == demo_users[0]["nick_name"]
    assert set(preview.get_json()) == {  # nothing that could be redeemed
        "gift_id", "status", "sender_nickname", "template_name", "quantity", "message", "cover",
        "sent_at",
    }  # fmt: skip
    assert claimed.status_code == 200 and claimed.get_json()["status"] == "claimed"
    wallet = client.get("/v1/vouchers", headers=people["friend"]).get_json()["data"]
    assert len(wallet) == 2
    assert all(v["status"] == "active" and v["code_masked"].startswith("*****") for v in wallet)
    full = client.get(f"/v1/vouchers/{wallet[0]['id']}", headers=people["friend"]).get_json()
    assert full["code"].endswith(wallet[0]["code_masked"][-4:])
    assert len(full["code"]) == 17
    assert (
        client.get(f"/v1/vouchers/{wallet[0]['id']}", headers=people["sender"]).status_code == 404
    )
    assert (
        client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()["events"][-1][
            "type"
        ]
        == "claimed"
    )


def test_only_the_named_recipient_may_claim(app, client, template, people, mock_idp):
    gift = sent_gift(app, client, template, people, mock_idp)
    token = claim_token_of(app, gift["id"])

    stranger = client.post(f"/v1/claims/{token}", headers=people["stranger"])
    sender = client.post(f"/v1/claims/{token}", headers=people["sender"])

    assert stranger.status_code == 403 and stranger.get_json()["code"] == "not_the_recipient"
    assert sender.status_code == 403
    assert client.post(f"/v1/claims/{token}", headers=people["friend"]).status_code == 200
    again = client.post(f"/v1/claims/{token}", headers=people["friend"])
    assert again.status_code == 409 and again.get_json()["code"] == "gift_already_claimed"


def test_two_people_racing_for_a_link_gift_one_wins(app, template, people, mock_idp, login):
    client = app.test_client()
    gift = sent_gift(app, client, template, people, mock_idp, recipient={"link": True})
    token = claim_token_of(app, gift["id"])
    racers = [bearer(login(i)["access_token"]) for i in (3, 4, 5, 6)]
    answers: list[int] = []

    def race(headers):
        answers.append(app.test_client().post(f"/v1/claims/{token}", headers=headers).status_code)

    threads = [threading.Thread(target=race, args=(h,)) for h in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(answers) == [200, 409, 409, 409]
    owners = {
        v["id"]
        for h in racers
        for v in app.test_client().get("/v1/vouchers", headers=h).get_json()["data"]
    }
    assert len(owners) == 2  # both vouchers went to the one winner


def test_a_claim_after_the_window_is_refused(app, client, template, people, mock_idp):
    gift = sent_gift(app, client, template, people, mock_idp)
    with app.app_context():
        db.session.execute(
            db.update(Gift).values(claim_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()

    response = client.post(
        f"/v1/claims/{claim_token_of(app, gift['id'])}", headers=people["friend"]
    )

    assert response.status_code == 410
    assert response.get_json()["code"] == "claim_window_closed"


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_claim_link_is_a_404(client, people, method):
    response = getattr(client, method)("/v1/claims/not-a-token", headers=people["friend"])
    assert response.status_code == 404
    assert response.get_json()["code"] == "claim_not_found"
