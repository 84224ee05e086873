"""RSA2 signing rules of the open-gateway protocol."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization

from service.gateway import signing


@pytest.fixture(scope="module")
def key():
    return signing.generate_private_key()


def test_the_request_string_matches_the_reference_example():
    params = {
        "app_id": "2021000000000001",
        "method": "alipay.system.oauth.token",
        "format": "json",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": "2026-11-25 00:37:30",
        "version": "1.0",
        "grant_type": "authorization_code",
        "code": "abc",
        "sign": "ignored",
        "empty": "",
    }
    assert signing.request_signing_string(params) == (
        "app_id=2021000000000001&charset=utf-8&code=abc&format=json"
        "&grant_type=authorization_code&method=alipay.system.oauth.token&sign_type=RSA2"
        "&timestamp=2026-11-25 00:37:30&version=1.0"
    )


def test_a_signed_request_verifies_and_a_changed_one_does_not(key):
    signed = signing.sign_request({"app_id": "1", "biz_content": '{"a":"中文"}'}, key)

    assert signed["sign_type"] == "RSA2"
    assert signing.verify_request(signed, key.public_key())
    assert not signing.verify_request({**signed, "biz_content": '{"a":"x"}'}, key.public_key())


def test_a_client_that_signs_empty_values_is_still_accepted(key):
    params = {"app_id": "1", "method": "m", "notify_url": "", "sign_type": "RSA2"}
    with_empty = signing.request_signing_string(params, include_empty=True)
    params["sign"] = signing.sign(with_empty, key)

    assert signing.verify_request(params, key.public_key())


def test_legacy_rsa_sha1_signatures_verify(key):
    params = {"app_id": "1", "method": "m", "sign_type": "RSA"}
    params["sign"] = signing.sign(signing.request_signing_string(params), key, "RSA")

    assert signing.verify_request(params, key.public_key())


def test_notifications_leave_out_sign_type_from_the_string(key):
    fields = signing.sign_notification({"notify_id": "n1", "trade_status": "TRADE_SUCCESS"}, key)

    assert signing.notification_signing_string(fields) == "notify_id=n1&trade_status=TRADE_SUCCESS"
    assert signing.verify_notification(fields, key.public_key())
    assert not signing.verify_notification({**fields, "trade_status": "X"}, key.public_key())


@pytest.mark.parametrize("bad", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_malformed_signatures_are_simply_invalid(key, bad):
    assert not signing.verify("message", bad, key.public_key())


def _forms(key):
    private_pkcs1 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    private_pkcs8 = signing.private_key_pem(key)
    public_pkcs1 = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        .decode()
    )

    def bare(pem: str) -> str:
        return "".join(line for line in pem.splitlines() if not line.startswith("-----"))

    return {
        "private": [
            private_pkcs1,
            private_pkcs8,
            bare(private_pkcs1),
            bare(private_pkcs8),
            signing.private_key_pem(key, dev=True),
        ],
        "public": [
            signing.public_key_pem(key),
            signing.public_key_base64(key),
            public_pkcs1,
            bare(public_pkcs1),
        ],
    }


def test_keys_load_in_every_form_the_platform_hands_out(key):
    forms = _forms(key)
    message = "hello"
    for private_text in forms["private"]:
        signature = signing.sign(message, signing.load_private_key(private_text))
        for public_text in forms["public"]:
            assert signing.verify(message, signature, signing.load_public_key(public_text))


@pytest.mark.parametrize("bad", ["", "hello world", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END"])
def test_unusable_keys_are_refused_clearly(bad):
    with pytest.raises(signing.KeyFormatError):
        signing.load_private_key(bad)


def test_dev_keys_are_recognisable(key):
    assert signing.is_dev_key(signing.private_key_pem(key, dev=True))
    assert not signing.is_dev_key(signing.private_key_pem(key))


def test_a_response_is_signed_over_the_exact_inner_text(key):
    inner = {"code": "10000", "msg": "Success", "nick_name": "小明 {a}", "url": "https://x/y"}
    body = signing.build_response("x_response", inner, key)

    text, parsed, signature = signing.extract_response(body, "x_response")

    assert body.startswith(b'{"x_response":{')
    assert b'"sign":' in body and body.index(b'"x_response"') < body.index(b'"sign"')
    assert "https://x/y" in text and "小明" in text  # '/' not escaped, raw UTF-8
    assert parsed == inner
    assert signing.verify(text, signature, key.public_key())


def test_an_unsigned_response_has_no_signature():
    body = signing.build_response("error_response", {"code": "40002"}, None)

    assert signing.extract_response(body, "error_response")[2] is None


@pytest.mark.parametrize("body", [b"not json", b'{"other":{}}', b'{"x_response":"text"}'])
def test_a_malformed_envelope_is_rejected(body):
    with pytest.raises(signing.MalformedResponse):
        signing.extract_response(body, "x_response")
