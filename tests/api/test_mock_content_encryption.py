"""Content encryption between Minifin's gateway client and the mock, over real HTTP (spec §9)."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest

from service.gateway import content_encryption, payments, signing
from service.gateway.client import GatewayClient
from service.gateway.errors import GatewayBadResponse, GatewayRejected
from tests.mock_idp_helpers import DEMO_USER_ID, TEST_APP_ID, parse_reply

AES_KEY = "AAECAwQFBgcICQoLDA0ODw=="
OTHER_KEY = "EBESExQVFhcYGRobHB0eHw=="


@pytest.fixture
def mock(standalone_mock, app_key):
    return standalone_mock.reset_with_test_app(app_key, aes_key=AES_KEY)


@contextmanager
def gateway(mock, app_key, **options):
    client = GatewayClient(
        mock.url + "/gateway.do",
        TEST_APP_ID,
        signing.private_key_pem(app_key),
        mock.platform_public_key_pem,
        retries=0,
        **options,
    )
    try:
        yield client
    finally:
        client.close()


def _open_trade(client, out_trade_no="aes_0001"):
    return payments.create_trade(
        client, out_trade_no=out_trade_no, amount_fen=990, subject="礼物", buyer_id=DEMO_USER_ID
    )


def test_encrypted_calls_are_answered_encrypted_and_read_back(mock, app_key):
    with gateway(mock, app_key, aes_key=AES_KEY) as client:
        trade_no = _open_trade(client)
        state = payments.query_trade(client, out_trade_no="aes_0001")

    assert state is not None and state.trade_no == trade_no
    assert mock.trade(trade_no)["out_trade_no"] == "aes_0001"


def test_the_answer_on_the_wire_is_a_quoted_ciphertext_signed_with_its_quotes(mock, app_key):
    with gateway(mock, app_key, aes_key=AES_KEY) as client, mock.test_app_client(app_key) as raw:
        _open_trade(client)
        params = client.signed_parameters(
            payments.TRADE_QUERY, {"out_trade_no": "aes_0001"}, encrypt=True
        )
        response = raw.post(params)

    body = response.text
    key = signing.response_key(payments.TRADE_QUERY)
    quoted, ciphertext, sign = content_encryption.extract_encrypted_response(body, key)
    assert signing.verify(quoted, sign or "", mock.platform_public_key)
    assert not signing.verify(ciphertext, sign or "", mock.platform_public_key)
    inner = content_encryption.decrypt_json_object(ciphertext, content_encryption.load_key(AES_KEY))
    assert inner["code"] == "10000" and inner["trade_status"] == "WAIT_BUYER_PAY"


def test_a_clear_request_for_an_encrypted_method_gets_the_platforms_refusal(mock, app_key):
    with mock.test_app_client(app_key) as raw:
        reply = raw.call(payments.TRADE_QUERY, {"out_trade_no": "aes_0001"})

    assert reply.inner["code"] == "40001"
    assert reply.inner["sub_code"] == "isv.decryption-error-missing-encrypt-type"
    assert raw.verifies(reply)


def test_only_the_apps_chosen_methods_must_come_encrypted(standalone_mock, app_key):
    standalone_mock.reset_with_test_app(
        app_key, aes_key=AES_KEY, aes_methods=[payments.TRADE_CREATE]
    )
    with standalone_mock.test_app_client(app_key) as raw:
        reply = raw.call(payments.TRADE_QUERY, {"out_trade_no": "nope"})
    assert reply.inner["sub_code"] == "ACQ.TRADE_NOT_EXIST"  # read, in clear


@pytest.mark.parametrize(
    ("change", "sub_code"),
    [
        ({"encrypt_type": "DES"}, "isv.decryption-error-not-valid-encrypt-type"),
        ({"biz_content": "bm90IGEgY2lwaGVydGV4dA=="}, "isv.decryption-error-unknown"),
    ],
)
def test_an_encrypted_request_the_gateway_cannot_read_is_refused(mock, app_key, change, sub_code):
    with mock.test_app_client(app_key) as raw:
        params = raw.common(payments.TRADE_QUERY, encrypt_type="AES")
        params["biz_content"] = content_encryption.encrypt(
            '{"out_trade_no":"x"}', content_encryption.load_key(AES_KEY)
        )
        params.update(change)
        params["sign"] = signing.sign(signing.request_signing_string(params), app_key)
        reply = parse_reply(raw.post(params), payments.TRADE_QUERY)
    assert reply.inner["sub_code"] == sub_code
    assert json.loads(reply.body)[signing.response_key(payments.TRADE_QUERY)]["code"] == "40002"


def test_an_app_without_a_key_cannot_send_encrypted(standalone_mock, app_key):
    standalone_mock.reset_with_test_app(app_key)
    with (
        gateway(standalone_mock, app_key, aes_key=AES_KEY) as client,
        pytest.raises(GatewayRejected) as refused,
    ):
        client.call(payments.TRADE_QUERY, {"out_trade_no": "x"})
    assert refused.value.sub_code == "isv.decryption-error-not-valid-encrypt-key"


def test_minifin_with_the_wrong_key_is_refused_and_cannot_read_answers(mock, app_key):
    with (
        gateway(mock, app_key, aes_key=OTHER_KEY) as client,
        pytest.raises(GatewayRejected) as refused,
    ):
        _open_trade(client)
    assert refused.value.sub_code == "isv.decryption-error-unknown"


def test_a_corrupted_signature_on_an_encrypted_answer_is_a_bad_response(mock, app_key):
    mock.add_fault(method=payments.TRADE_QUERY, kind="bad_signature")
    with gateway(mock, app_key, aes_key=AES_KEY) as client, pytest.raises(GatewayBadResponse):
        client.call(payments.TRADE_QUERY, {"out_trade_no": "x"})


def test_clear_methods_still_work_for_an_app_with_a_key(mock, app_key):
    code = mock.auth_code(TEST_APP_ID)
    with gateway(mock, app_key, aes_key=AES_KEY) as client:
        token = client.call("alipay.system.oauth.token", grant_type="authorization_code", code=code)
    assert token["user_id"] == DEMO_USER_ID
