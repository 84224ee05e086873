"""The gateway client with an AES key: requests encrypted and signed as sent, answers read back."""

from __future__ import annotations

import json

import pytest

from config import ConfigError, load_settings
from service.gateway import content_encryption, signing
from service.gateway.client import GatewayClient
from service.gateway.errors import GatewayBadResponse

AES_KEY = "AAECAwQFBgcICQoLDA0ODw=="
RAW_KEY = content_encryption.load_key(AES_KEY)
METHOD = "alipay.trade.query"


@pytest.fixture(scope="module")
def keys():
    return signing.generate_private_key(), signing.generate_private_key()


def _client(keys, aes_key=AES_KEY, aes_methods=None):
    app_key, platform_key = keys
    return GatewayClient(
        "https://gateway.example/gateway.do",
        "2021000000000001",
        signing.private_key_pem(app_key),
        signing.public_key_base64(platform_key),
        aes_key=aes_key,
        aes_methods=aes_methods,
        retries=0,
    )


class Wire:
    """Stands in for the HTTP exchange: keeps what was sent, answers a prepared body."""

    def __init__(self, client, answer):
        self.sent: dict[str, str] = {}
        self.answer = answer
        client._post_within_deadline = self.post

    def post(self, query, body, deadline):
        self.sent = {**query, **body}
        return 200, self.answer(self.sent)


def _encrypted_answer(platform_key, inner, *, key=RAW_KEY, quote=True):
    quoted = signing.compact_json(content_encryption.encrypt(signing.compact_json(inner), key))
    signed = quoted if quote else quoted.strip('"')
    sign = signing.sign(signed, platform_key)
    return ('{"alipay_trade_query_response":' + quoted + ',"sign":"' + sign + '"}').encode()


def test_a_request_goes_encrypted_and_is_signed_over_the_ciphertext(keys):
    client = _client(keys)
    wire = Wire(
        client, lambda sent: _encrypted_answer(keys[1], {"code": "10000", "msg": "Success"})
    )

    client.call(METHOD, {"out_trade_no": "o1"})

    assert wire.sent["encrypt_type"] == "AES"
    assert wire.sent["biz_content"] != '{"out_trade_no":"o1"}'
    key = content_encryption.load_key(AES_KEY)
    assert content_encryption.decrypt(wire.sent["biz_content"], key) == '{"out_trade_no":"o1"}'
    assert signing.verify_request(wire.sent, keys[0].public_key())


def test_an_encrypted_answer_is_verified_over_its_quoted_text_then_decrypted(keys):
    client = _client(keys)
    inner = {"code": "10000", "msg": "Success", "trade_status": "TRADE_SUCCESS"}
    Wire(client, lambda sent: _encrypted_answer(keys[1], inner))

    assert client.call(METHOD, {"out_trade_no": "o1"}) == inner


@pytest.mark.parametrize(
    "spoil",
    [
        {"quote": False},  # signed over the bare ciphertext: not the platform's rule
        {"key": bytes(16)},  # encrypted with another key
    ],
)
def test_an_encrypted_answer_that_does_not_verify_or_decrypt_is_a_bad_response(keys, spoil):
    client = _client(keys)
    Wire(client, lambda sent: _encrypted_answer(keys[1], {"code": "10000"}, **spoil))

    with pytest.raises(GatewayBadResponse):
        client.call(METHOD, {"out_trade_no": "o1"})


def test_an_encrypted_answer_without_a_key_is_a_bad_response(keys):
    client = _client(keys, aes_key=None)
    wire = Wire(client, lambda sent: _encrypted_answer(keys[1], {"code": "10000"}))

    with pytest.raises(GatewayBadResponse):
        client.call(METHOD, {"out_trade_no": "o1"})
    assert "encrypt_type" not in wire.sent


def test_only_the_chosen_methods_and_those_with_a_biz_content_are_encrypted(keys):
    client = _client(keys, aes_methods=frozenset({"alipay.trade.create"}))
    clear = {"code": "10000", "msg": "Success"}

    def answer(sent):
        key = signing.response_key(sent["method"])
        return signing.build_response(key, clear, keys[1])

    wire = Wire(client, answer)
    client.call(METHOD, {"out_trade_no": "o1"})
    assert "encrypt_type" not in wire.sent
    assert json.loads(wire.sent["biz_content"]) == {"out_trade_no": "o1"}

    everything = _client(keys)
    wire = Wire(everything, answer)
    everything.call("alipay.system.oauth.token", None, grant_type="authorization_code", code="c")
    assert "encrypt_type" not in wire.sent


def test_settings_refuse_an_aes_key_that_is_not_128_bits_of_base64():
    with pytest.raises(ConfigError, match="MINIFIN_APP_AES_KEY: is 256 bits"):
        load_settings({"MINIFIN_PROFILE": "test", "MINIFIN_APP_AES_KEY": "A" * 43 + "="})
    with pytest.raises(ConfigError, match="MINIFIN_APP_AES_KEY: is not base64"):
        load_settings({"MINIFIN_PROFILE": "test", "MINIFIN_APP_AES_KEY": "not base64!"})
    settings = load_settings(
        {"MINIFIN_PROFILE": "test", "MINIFIN_APP_AES_KEY": AES_KEY,
         "MINIFIN_APP_AES_METHODS": "alipay.trade.query,alipay.trade.create"}
    )  # fmt: skip
    assert settings.aes_methods == {"alipay.trade.query", "alipay.trade.create"}
    assert load_settings({"MINIFIN_PROFILE": "test"}).aes_methods is None
