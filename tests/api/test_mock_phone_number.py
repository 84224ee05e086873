"""`POST /_mock/phone-number`: what `my.getPhoneNumber` hands the mini-program (spec §9)."""

from __future__ import annotations

import json

import pytest

from service.gateway import content_encryption, signing
from tests.mock_idp_helpers import DEMO_USER_ID, TEST_APP_ID

AES_KEY = "AAECAwQFBgcICQoLDA0ODw=="


@pytest.fixture
def mock(standalone_mock, app_key):
    return standalone_mock.reset_with_test_app(app_key, aes_key=AES_KEY, phone_number=True)


def _handed(mock, app_id=TEST_APP_ID, user_id=DEMO_USER_ID):
    reply = mock.control.post("/_mock/phone-number", json={"app_id": app_id, "user_id": user_id})
    assert reply.status_code == 200, reply.text
    return json.loads(reply.json()["response"])


def test_the_answer_is_the_encrypted_mobile_signed_over_the_quoted_ciphertext(mock):
    answer = _handed(mock)

    assert answer["encrypt_type"] == "AES" and answer["sign_type"] == "RSA2"
    assert signing.verify(f'"{answer["response"]}"', answer["sign"], mock.platform_public_key)
    assert not signing.verify(answer["response"], answer["sign"], mock.platform_public_key)
    content = content_encryption.decrypt_json_object(
        answer["response"], content_encryption.load_key(AES_KEY)
    )
    assert content == {
        "code": "10000",
        "msg": "Success",
        "mobile": mock.user(DEMO_USER_ID)["mobile"],
    }


def test_an_app_without_the_phone_product_gets_the_platforms_refusal(mock, app_key):
    mock.register_app(TEST_APP_ID, signing.public_key_pem(app_key), phone_number=False)
    answer = _handed(mock)

    content = content_encryption.decrypt_json_object(
        answer["response"], content_encryption.load_key(AES_KEY)
    )
    assert content["code"] == "40003" and content["subcode"] == "isv.invalid-auth-relations"
    assert "sub_code" not in content
    assert signing.verify(f'"{answer["response"]}"', answer["sign"], mock.platform_public_key)


def test_an_app_without_an_aes_key_gets_a_clear_refusal_signed_as_it_stands(mock, app_key):
    mock.register_app(TEST_APP_ID, signing.public_key_pem(app_key), aes_key=False)
    answer = _handed(mock)

    assert "encrypt_type" not in answer
    assert json.loads(answer["response"])["code"] == "40002"
    assert signing.verify(answer["response"], answer["sign"], mock.platform_public_key)


def test_unknown_apps_and_users_are_404(mock):
    for body in ({"app_id": "nope", "user_id": DEMO_USER_ID}, {"app_id": TEST_APP_ID}):
        assert mock.control.post("/_mock/phone-number", json=body).status_code == 404
