"""The gateway's AES content encryption and its quoted-ciphertext signature rule (spec §9)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.gateway import content_encryption, signing

KEY_TEXT = "AAECAwQFBgcICQoLDA0ODw=="  # bytes 00..0f
KEY = bytes(range(16))
PHONE_PLAIN = '{"code":"10000","msg":"Success","mobile":"13800138000"}'
# Computed independently: `openssl enc -aes-128-cbc -K 000102…0f -iv 00…00 -base64 -A`.
PHONE_CIPHER = (
    "igATcyTqqgv1AFpBiHJyVf94zn4d80DWhHrnUhty+8RANJYRclz7h18/tips8L5UTuMmNV7rHGCs+h7uZSZZQQ=="
)
EMPTY_CIPHER = "lU9k8uTobp7ugtICFmhImQ=="


def test_known_vectors_match_openssl():
    assert content_encryption.encrypt(PHONE_PLAIN, KEY) == PHONE_CIPHER
    assert content_encryption.encrypt("", KEY) == EMPTY_CIPHER
    assert content_encryption.decrypt(PHONE_CIPHER, KEY) == PHONE_PLAIN


def test_a_console_key_is_base64_of_128_bits():
    assert content_encryption.load_key(f"  {KEY_TEXT}\n") == KEY
    with pytest.raises(content_encryption.ContentKeyError, match="256 bits"):
        content_encryption.load_key(base64.b64encode(bytes(32)).decode())
    with pytest.raises(content_encryption.ContentKeyError, match="not base64"):
        content_encryption.load_key("not*base64")


@given(st.text(), st.binary(min_size=16, max_size=16))
def test_any_text_round_trips(plaintext, key):
    ciphertext = content_encryption.encrypt(plaintext, key)
    assert len(base64.b64decode(ciphertext)) % 16 == 0
    assert content_encryption.decrypt(ciphertext, key) == plaintext


@given(st.dictionaries(st.text(), st.text() | st.integers()))
def test_json_objects_round_trip(value):
    ciphertext = content_encryption.encrypt(signing.compact_json(value), KEY)
    assert content_encryption.decrypt_json_object(ciphertext, KEY) == value


@pytest.mark.parametrize("bad", ["", "not base64!", "AAAA", base64.b64encode(b"x" * 17).decode()])
def test_what_is_not_a_ciphertext_is_refused(bad):
    with pytest.raises(content_encryption.DecryptionFailed):
        content_encryption.decrypt(bad, KEY)


def test_a_wrong_key_does_not_decrypt_the_phone_answer():
    with pytest.raises(content_encryption.DecryptionFailed):
        content_encryption.decrypt_json_object(PHONE_CIPHER, bytes(16))


def test_a_ciphertext_is_signed_quoted_and_clear_json_as_it_stands():
    assert content_encryption.signed_content(PHONE_CIPHER) == f'"{PHONE_CIPHER}"'
    assert content_encryption.signed_content('{"code":"10000"}') == '{"code":"10000"}'


def test_the_encrypted_answer_is_cut_from_the_body_with_its_quotes():
    key = signing.generate_private_key()
    escaped = PHONE_CIPHER.replace("/", "\\/")  # a serialiser that escapes `/`: keep its bytes
    quoted = f'"{escaped}"'
    body = '{"m_response":' + quoted + ',"sign":"' + signing.sign(quoted, key) + '"}'
    text, ciphertext, signature = content_encryption.extract_encrypted_response(
        body.encode(), "m_response"
    )
    assert text == quoted and ciphertext == PHONE_CIPHER
    assert signing.verify(text, signature or "", key.public_key())
    assert content_encryption.is_encrypted_response(text)
    with pytest.raises(content_encryption.DecryptionFailed):
        content_encryption.extract_encrypted_response(b'{"m_response":{"code":"1"}}', "m_response")
