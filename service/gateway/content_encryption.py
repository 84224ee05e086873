"""Content encryption (接口内容加密): the AES rules of the open gateway, for both sides of the wire.

The platform encrypts `biz_content` and answers with AES-128-CBC, PKCS#7 padding and an all-zero
IV, ciphertext in base64 (spec §9). The zero IV means equal plaintexts give equal ciphertexts:
that is the platform's design, not ours, and it is why a replayed ciphertext must be bound to
its user by other means (see the phone-number use case). The client, the mock and the phone
endpoint share this module so that none of them can drift from the others.

The signature rule: an encrypted answer's signed content is the JSON *string* under
`<method>_response` exactly as cut from the body, double quotes included; `my.getPhoneNumber`'s
`response` is signed the same way (`"\"" + response + "\""`), while an unencrypted `{…}` is
signed as it stands.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from service.gateway import signing

AES = "AES"
KEY_BYTES = 16
_BLOCK_BITS = 128
_ZERO_IV = bytes(16)


class ContentKeyError(ValueError):
    """A configured AES key that is not base64 of exactly 128 bits."""


class DecryptionFailed(ValueError):
    """Ciphertext that is not base64, not whole blocks, badly padded, or not UTF-8 text."""


def load_key(text: str) -> bytes:
    """The 16 raw bytes of a console-style key (base64 of 128 bits, surrounding blanks ignored)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ContentKeyError("the AES key is not base64") from exc
    if len(raw) != KEY_BYTES:
        raise ContentKeyError(f"the AES key is {len(raw) * 8} bits; the platform uses 128")
    return raw


def encrypt(plaintext: str, key: bytes) -> str:
    """Base64 of AES-128-CBC(PKCS#7(UTF-8 plaintext)) under a zero IV."""
    padder = padding.PKCS7(_BLOCK_BITS).padder()
    padded = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(_ZERO_IV)).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def decrypt(ciphertext: str, key: bytes) -> str:
    """The UTF-8 text a ciphertext holds; anything that is not one is `DecryptionFailed`.

    A wrong key shows as bad padding (or, rarely, as text that is not UTF-8 or not the JSON
    expected: callers parse what they get and treat a failure the same way).
    """
    try:
        raw = base64.b64decode(ciphertext, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionFailed("the ciphertext is not base64") from exc
    if not raw or len(raw) % 16:
        raise DecryptionFailed("the ciphertext is not whole AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(_ZERO_IV)).decryptor()
    padded = decryptor.update(raw) + decryptor.finalize()
    unpadder = padding.PKCS7(_BLOCK_BITS).unpadder()
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
        return plain.decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecryptionFailed("the ciphertext does not decrypt under this key") from exc


def decrypt_json_object(ciphertext: str, key: bytes) -> dict[str, Any]:
    """Decrypt and parse a JSON object; anything else is `DecryptionFailed`."""
    text = decrypt(ciphertext, key)
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise DecryptionFailed("the plaintext is not JSON") from exc
    if not isinstance(value, dict):
        raise DecryptionFailed("the plaintext is not a JSON object")
    return value


def signed_content(response: str) -> str:
    """What the platform signed for a `response` value: quoted ciphertext, or `{…}` as it stands."""
    if response.lstrip().startswith("{"):
        return response
    return '"' + response + '"'


def encrypted_request(params: dict[str, str], key: bytes) -> dict[str, str]:
    """Request parameters with `biz_content` encrypted and `encrypt_type=AES`, not yet signed.

    The signature is made afterwards, over the encrypted value (spec §9).
    """
    encrypted = dict(params)
    encrypted["biz_content"] = encrypt(params["biz_content"], key)
    encrypted["encrypt_type"] = AES
    return encrypted


def encrypted_answer(body: bytes | str, key: str) -> tuple[str, str, str | None] | None:
    """`extract_encrypted_response` for a body whose `key` holds a string; None for any other."""
    try:
        return extract_encrypted_response(body, key)
    except (DecryptionFailed, UnicodeDecodeError):
        return None


def is_encrypted_response(response_text: str) -> bool:
    """Whether the raw JSON text cut from under `<method>_response` is a string (encrypted)."""
    return response_text.startswith('"')


def extract_encrypted_response(body: bytes | str, key: str) -> tuple[str, str, str | None]:
    """(exact quoted text as in the body, ciphertext, signature) of an encrypted answer.

    The quoted text is cut from the body, never re-serialised: the signature covers it.
    """
    try:
        quoted, ciphertext, signature = signing.cut_member(body, key, str)
    except signing.MalformedResponse as exc:
        raise DecryptionFailed(f"the answer has no encrypted {key!r}: {exc}") from exc
    return quoted, ciphertext, signature
