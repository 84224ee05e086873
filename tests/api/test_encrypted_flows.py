"""Minifin's flows with content encryption on, in both key modes, on both engines, over real
HTTP to the mock.

The mock's app insists on encryption for every method with a `biz_content` (`aes_methods`
`["*"]`), so any call Minifin sent in clear would be refused there: a flow that completes proves
its calls went encrypted, and their encrypted answers were verified and read. In certificate
mode the app is forced to send its SNs (`force_cert`), and every answer, notification and
message is signed with the platform certificate's key, so the same flows prove that mode too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from service.extensions import db
from service.gifting.models import Gift
from service.gifting.refunds import expire_unclaimed_gifts
from tests.conftest import APP_ID, auth_code, bearer, migrated_app
from tests.credit_helpers import (
    calls_of,
    check,
    consent,
    last_call_id,
    settle_headers,
    start_deposit,
)
from tests.gifting_helpers import COFFEE, client_token, run_outbox_now, sent_gift
from tests.identity_helpers import verify

AES_KEY = "AAECAwQFBgcICQoLDA0ODw=="
SCORE_OF_USER_0 = 742  # service/mock_idp/data/demo_users.json


@pytest.fixture(params=["key", "cert"])
def minifin(request, app_env, any_database_url, mock_idp):
    public_key = httpx.get(f"{mock_idp.url}/_mock/apps/{APP_ID}").json()["public_key_pem"]

    def register(**options) -> dict:
        reply = httpx.post(
            f"{mock_idp.url}/_mock/apps",
            json={"app_id": APP_ID, "public_key": public_key, **options},
        )
        reply.raise_for_status()
        return reply.json()

    settings = {"MINIFIN_APP_AES_KEY": AES_KEY}
    if request.param == "cert":
        files = register(aes_key=AES_KEY, aes_methods=["*"], key_mode="cert", force_cert=True)
        settings |= {
            "MINIFIN_APP_CERT": files["certificates"]["app_cert"],
            "MINIFIN_PLATFORM_CERT": files["certificates"]["alipay_cert"],
            "MINIFIN_PLATFORM_ROOT_CERT": files["certificates"]["alipay_root_cert"],
        }
    else:
        register(aes_key=AES_KEY, aes_methods=["*"])
    try:
        with migrated_app(app_env, any_database_url, **settings) as application:
            yield application
    finally:
        register(aes_key=False, key_mode="key", force_cert=False)


def _login(client, mock_idp, user_id: str, scopes=("auth_user",)) -> dict:
    code = auth_code(mock_idp.url, user_id, scopes)
    reply = client.post("/v1/sessions", json={"auth_code": code})
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()


def _gift_story(minifin, client, mock_idp, demo_users) -> tuple[dict, dict, dict]:
    """A template on sale, its sender logged in, and the friend (logged in) a gift goes to."""
    merchant = bearer(client_token(minifin, client, "templates:write"))
    template = client.post("/v1/voucher-templates", json=COFFEE, headers=merchant).get_json()
    friend = _login(client, mock_idp, demo_users[1]["user_id"])
    people = {
        "sender": bearer(_login(client, mock_idp, demo_users[0]["user_id"])["access_token"]),
        "friend_id": friend["user"]["id"],
    }
    return template, people, friend


def test_a_gift_is_bought_paid_sent_and_claimed_with_every_call_encrypted(
    minifin, mock_idp, demo_users
):
    client = minifin.test_client()
    template, people, friend = _gift_story(minifin, client, mock_idp, demo_users)

    gift = sent_gift(minifin, client, template, people, mock_idp)
    received = client.get("/v1/gifts?role=received", headers=bearer(friend["access_token"]))
    token = received.get_json()["data"][0]["claim_token"]
    claimed = client.post(f"/v1/claims/{token}", headers=bearer(friend["access_token"]))

    assert claimed.status_code == 200 and claimed.get_json()["status"] == "claimed"
    assert httpx.get(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}").json()["trade_status"] == (
        "TRADE_SUCCESS"
    )
    inbox = httpx.get(f"{mock_idp.url}/_mock/inbox/{demo_users[1]['user_id']}").json()
    assert any(token in message["page"] for message in inbox["messages"])


def test_an_unclaimed_gift_is_refunded_with_every_call_encrypted(minifin, mock_idp, demo_users):
    client = minifin.test_client()
    template, people, _friend = _gift_story(minifin, client, mock_idp, demo_users)
    gift = sent_gift(minifin, client, template, people, mock_idp)
    with minifin.app_context():
        db.session.execute(
            db.update(Gift).values(claim_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()
        assert expire_unclaimed_gifts("test-worker", 100) == 1
    run_outbox_now(minifin)  # the refund and the sender's message

    shown = client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()
    assert shown["status"] == "refunded"
    trade = httpx.get(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}").json()
    assert trade["refunded_fen"] == gift["amount_fen"]


def test_a_face_verification_and_a_credit_check_go_encrypted(minifin, mock_idp, demo_users):
    client = minifin.test_client()
    user_id = demo_users[0]["user_id"]
    tokens = _login(client, mock_idp, user_id)
    verified = verify(client, tokens["access_token"], mock_idp.url)  # initialize, then query
    consent(client, tokens["access_token"], mock_idp.url, user_id, "credit_check")
    before = last_call_id(mock_idp.url)

    response = check(client, tokens["access_token"], threshold=SCORE_OF_USER_0)

    assert verified["status"] == "passed"
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["outcome"] == "admitted"
    assert [call["code"] for call in calls_of(mock_idp.url, after=before)] == ["10000"]


def test_a_deposit_is_held_released_and_charged_with_every_call_encrypted(
    minifin, mock_idp, mock, demo_users
):
    client = minifin.test_client()
    user_id = demo_users[0]["user_id"]
    tokens = _login(client, mock_idp, user_id)
    consent(client, tokens["access_token"], mock_idp.url, user_id, "deposit_waiver")
    deposit = start_deposit(client, tokens["access_token"], 9900).get_json()
    frozen = mock.frozen(deposit["order_str"], user_id=user_id)
    (freeze,) = mock.notifications(auth_no=frozen["auth_no"])
    relayed = client.post("/v1/notifications/alipay", data=freeze["fields"])
    assert relayed.get_data(as_text=True) == "success"  # signed in the app's key mode
    settler = client_token(minifin, client, "deposits:settle")

    released = client.post(f"/v1/credit/deposits/{deposit['id']}/release",
                           json={"amount_fen": 3000}, headers=settle_headers(settler))  # fmt: skip
    charged = client.post(f"/v1/credit/deposits/{deposit['id']}/charges",
                          json={"amount_fen": 6900, "reason": "lost"},
                          headers=settle_headers(settler))  # fmt: skip

    assert released.status_code == 200, released.get_json()
    assert charged.status_code == 201, charged.get_json()
    user = bearer(tokens["access_token"])
    shown = client.get(f"/v1/credit/deposits/{deposit['id']}", headers=user)
    assert shown.get_json()["released_fen"] == 3000
    assert shown.get_json()["charged_fen"] == 6900
