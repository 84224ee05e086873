"""`POST /v1/me/phone`: a user proves their mobile with `my.getPhoneNumber`'s answer, on both
engines, over real HTTP between Minifin and the mock; then a phone gift reaches them."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select

from service.auth.models import User
from service.extensions import db
from service.gateway import content_encryption
from tests.conftest import APP_ID, auth_code, bearer, migrated_app
from tests.gifting_helpers import COFFEE, claim_token_of, client_token, sent_gift

AES_KEY = "AAECAwQFBgcICQoLDA0ODw=="
OTHER_KEY = "EBESExQVFhcYGRobHB0eHw=="


@pytest.fixture
def aes_app(mock_idp):
    """The test app with an AES key and the phone-number product at the mock (then without)."""
    public_key = httpx.get(f"{mock_idp.url}/_mock/apps/{APP_ID}").json()["public_key_pem"]

    def register(**options) -> None:
        httpx.post(
            f"{mock_idp.url}/_mock/apps",
            json={"app_id": APP_ID, "public_key": public_key, **options},
        ).raise_for_status()

    register(aes_key=AES_KEY, aes_methods=["*"], phone_number=True)
    yield register
    register(aes_key=False, phone_number=False)


@pytest.fixture
def minifin(app_env, any_database_url, aes_app):
    with migrated_app(app_env, any_database_url, MINIFIN_APP_AES_KEY=AES_KEY) as application:
        yield application


def _login(client, mock_idp, user_id: str) -> dict:
    reply = client.post("/v1/sessions", json={"auth_code": auth_code(mock_idp.url, user_id)})
    assert reply.status_code == 201, reply.get_json()
    return bearer(reply.get_json()["access_token"])


def _handed(mock_idp, user_id: str) -> str:
    reply = httpx.post(
        f"{mock_idp.url}/_mock/phone-number", json={"app_id": APP_ID, "user_id": user_id}
    )
    reply.raise_for_status()
    return reply.json()["response"]


def _prove(client, headers: dict, body: dict):
    return client.post("/v1/me/phone", json=body, headers=headers)


def _phone_hashes(minifin) -> dict[str, str | None]:
    with minifin.app_context():
        return {
            row.id: row.phone_hash for row in db.session.execute(select(User.id, User.phone_hash))
        }


def test_a_user_proves_their_number_and_only_its_digest_is_kept(minifin, mock_idp, demo_users):
    client = minifin.test_client()
    user = _login(client, mock_idp, demo_users[1]["user_id"])

    handed = _handed(mock_idp, demo_users[1]["user_id"])
    whole = _prove(client, user, {"response": handed})
    fields = _prove(client, user, json.loads(handed))

    assert whole.status_code == 200, whole.get_json()
    assert whole.get_json() == {"phone": "139****6402"} == fields.get_json()
    with minifin.app_context():
        row = db.session.scalars(select(User)).one()
        assert row.phone_hash is not None and len(row.phone_hash) == 64
        assert demo_users[1]["mobile"] not in repr(vars(row))


def test_every_bad_answer_is_a_clear_problem_and_stores_nothing(
    minifin, mock_idp, demo_users, aes_app
):
    client = minifin.test_client()
    owner_id = demo_users[1]["user_id"]
    user = _login(client, mock_idp, demo_users[2]["user_id"])
    genuine = json.loads(_handed(mock_idp, owner_id))
    other_key = content_encryption.load_key(OTHER_KEY)
    forged = content_encryption.encrypt('{"code":"10000","mobile":"13900000000"}', other_key)

    cases = {
        "phone_signature_invalid": {**genuine, "response": forged},
        "phone_answer_malformed": {"response": "not json"},
    }
    answers = {code: _prove(client, user, body) for code, body in cases.items()}
    aes_app(aes_key=OTHER_KEY, phone_number=True)  # the platform encrypts with a key Minifin lacks
    answers["phone_decryption_failed"] = _prove(
        client, user, {"response": _handed(mock_idp, owner_id)}
    )
    aes_app(aes_key=AES_KEY, phone_number=False)
    refused = _prove(client, user, {"response": _handed(mock_idp, owner_id)})

    for code, answer in answers.items():
        assert answer.status_code == 400, (code, answer.get_json())
        assert answer.get_json()["code"] == code
    assert refused.status_code == 422
    assert refused.get_json()["code"] == "phone_refused_by_platform"
    assert refused.get_json()["errors"] == {
        "code": ["40003"],
        "subcode": ["isv.invalid-auth-relations"],
    }
    assert client.post("/v1/me/phone", json=genuine).status_code == 401
    assert set(_phone_hashes(minifin).values()) == {None}


def test_a_replay_of_someone_elses_answer_is_refused(minifin, mock_idp, demo_users):
    client = minifin.test_client()
    owner = _login(client, mock_idp, demo_users[1]["user_id"])
    thief = _login(client, mock_idp, demo_users[2]["user_id"])
    answer = _handed(mock_idp, demo_users[1]["user_id"])

    first = client.post("/v1/me/phone", json={"response": answer}, headers=owner)
    replay = client.post("/v1/me/phone", json={"response": answer}, headers=thief)
    again = client.post("/v1/me/phone", json={"response": answer}, headers=owner)

    assert first.status_code == 200 and again.status_code == 200
    assert replay.status_code == 409
    assert replay.get_json()["code"] == "phone_bound_to_another_user"
    assert sorted(h is None for h in _phone_hashes(minifin).values()) == [False, True]


def test_minifin_without_an_aes_key_answers_503(app_env, any_database_url, mock_idp, demo_users):
    with migrated_app(app_env, any_database_url) as application:
        client = application.test_client()
        user = _login(client, mock_idp, demo_users[1]["user_id"])
        answer = client.post("/v1/me/phone", json={"response": "{}"}, headers=user)
    assert answer.status_code == 503 and answer.get_json()["code"] == "phone_not_configured"


def test_a_phone_gift_is_claimed_after_proving_the_number(minifin, mock_idp, demo_users):
    client = minifin.test_client()
    merchant = bearer(client_token(minifin, client, "templates:write"))
    template = client.post("/v1/voucher-templates", json=COFFEE, headers=merchant).get_json()
    friend_id = demo_users[1]["user_id"]
    friend = _login(client, mock_idp, friend_id)  # not privileged: no mobile at login
    people = {"sender": _login(client, mock_idp, demo_users[0]["user_id"]), "friend_id": None}
    gift = sent_gift(
        minifin, client, template, people, mock_idp, recipient={"phone": demo_users[1]["mobile"]}
    )
    token = claim_token_of(minifin, gift["id"])
    before = client.post(f"/v1/claims/{token}", headers=friend)

    proven = _prove(client, friend, {"response": _handed(mock_idp, friend_id)})
    claimed = client.post(f"/v1/claims/{token}", headers=friend)

    assert before.status_code == 403 and before.get_json()["code"] == "phone_not_verified"
    assert proven.status_code == 200
    assert claimed.status_code == 200 and claimed.get_json()["status"] == "claimed"
    assert len(client.get("/v1/vouchers", headers=friend).get_json()["data"]) == 2
