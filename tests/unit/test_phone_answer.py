"""Reading `my.getPhoneNumber`'s answer: the signature rule for ciphertext and clear JSON."""

from __future__ import annotations

import json

import pytest

from service.gateway import content_encryption, phone_number, signing
from service.gateway.client import GatewayClient

AES_KEY = "AAECAwQFBgcICQoLDA0ODw=="
RAW_KEY = content_encryption.load_key(AES_KEY)


@pytest.fixture(scope="module")
def platform_key():
    return signing.generate_private_key()


@pytest.fixture
def gateway(platform_key):
    client = GatewayClient(
        "https://gateway.example/gateway.do",
        "2021000000000001",
        signing.private_key_pem(signing.generate_private_key()),
        signing.public_key_pem(platform_key),
        aes_key=AES_KEY,
    )
    yield client
    client.close()


def _answer(platform_key, response: str, signed: str | None = None) -> dict:
    sign = signing.sign(signed if signed is not None else response, platform_key)
    return {"response": response, "sign": sign, "sign_type": "RSA2", "charset": "UTF-8"}


def test_a_ciphertext_is_verified_quoted_and_decrypted(gateway, platform_key):
    cipher = content_encryption.encrypt('{"code":"10000","mobile":"13810245671"}', RAW_KEY)
    fields = _answer(platform_key, cipher, f'"{cipher}"')

    for payload in (fields, {"response": json.dumps(fields)}):
        answer = phone_number.handed_answer(payload)
        assert phone_number.verified_mobile(gateway, answer) == "13810245671"
    bare = phone_number.handed_answer(_answer(platform_key, cipher))  # signed without quotes
    with pytest.raises(phone_number.PhoneAnswerError) as refused:
        phone_number.verified_mobile(gateway, bare)
    assert refused.value.reason == phone_number.SIGNATURE


def test_a_clear_object_is_verified_as_it_stands(gateway, platform_key):
    clear = (
        '{"code":"40003","msg":"Insufficient Conditions","subcode":"isv.invalid-auth-relations"}'
    )
    answer = phone_number.handed_answer(_answer(platform_key, clear))

    with pytest.raises(phone_number.PhoneAnswerError) as refused:
        phone_number.verified_mobile(gateway, answer)
    assert (refused.value.reason, refused.value.code, refused.value.sub_code) == (
        phone_number.REFUSED, "40003", "isv.invalid-auth-relations"
    )  # fmt: skip
    quoted = phone_number.handed_answer(_answer(platform_key, clear, f'"{clear}"'))
    with pytest.raises(phone_number.PhoneAnswerError) as refused:
        phone_number.verified_mobile(gateway, quoted)
    assert refused.value.reason == phone_number.SIGNATURE


@pytest.mark.parametrize(
    "payload", [{"response": "not json"}, {"response": "[1]"}, {"response": "x", "sign": ""}]
)
def test_what_is_not_an_answer_is_malformed(payload):
    with pytest.raises(phone_number.PhoneAnswerError) as refused:
        phone_number.handed_answer(payload)
    assert refused.value.reason == phone_number.MALFORMED
