"""The open-gateway signature rules, and RSA keys made and written for them.

Both sides of the wire use it: the gateway client signs requests and checks responses and
notifications; the mock identity provider checks requests and signs responses and notifications.
Keeping one implementation means the mock can never drift into accepting what the real platform
would refuse. Reading a configured key (PEM or bare base64, the development-key mark) lives in
`config.keys`, because the settings check at start needs it and config is the bottom layer; it is
re-exported here so both sides of the wire load keys through this module.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from config.keys import (
    DEV_KEY_MARKER,
    KeyFormatError,
    is_dev_key,
    load_private_key,
    load_public_key,
)

__all__ = [
    "DEV_KEY_MARKER",
    "LEGACY_RSA",
    "RSA2",
    "KeyFormatError",
    "MalformedResponse",
    "build_response",
    "compact_json",
    "extract_response",
    "generate_private_key",
    "is_dev_key",
    "load_private_key",
    "load_public_key",
    "notification_signing_string",
    "private_key_pem",
    "public_key_base64",
    "public_key_pem",
    "request_signing_string",
    "response_key",
    "sign",
    "sign_notification",
    "sign_request",
    "verify",
    "verify_notification",
    "verify_request",
]

RSA2 = "RSA2"
LEGACY_RSA = "RSA"
_HASHES = {RSA2: hashes.SHA256, LEGACY_RSA: hashes.SHA1}


def generate_private_key() -> rsa.RSAPrivateKey:
    """Return a new RSA-2048 key, the size the platform issues to merchants."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_key_pem(key: rsa.RSAPrivateKey, *, dev: bool = False) -> str:
    """PKCS#8 PEM; dev keys carry an explanatory line that production refuses."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return f"{DEV_KEY_MARKER}\n{pem}" if dev else pem


def public_key_pem(key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> str:
    """SubjectPublicKeyInfo PEM of a public key (or of a private key's public half)."""
    if isinstance(key, rsa.RSAPrivateKey):
        key = key.public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def public_key_base64(key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> str:
    """The bare base64 body of the public key, as the platform's console shows it."""
    pem = public_key_pem(key)
    return "".join(line for line in pem.splitlines() if not line.startswith("-----"))


def sign(message: str | bytes, private_key: rsa.RSAPrivateKey, sign_type: str = RSA2) -> str:
    """RSASSA-PKCS1-v1_5 signature of the UTF-8 message, as single-line base64."""
    data = message.encode("utf-8") if isinstance(message, str) else message
    raw = private_key.sign(data, padding.PKCS1v15(), _HASHES[sign_type]())
    return base64.b64encode(raw).decode("ascii")


def verify(
    message: str | bytes, signature: str, public_key: rsa.RSAPublicKey, sign_type: str = RSA2
) -> bool:
    """Check a base64 signature; any malformed input is simply not a valid signature."""
    if sign_type not in _HASHES or not signature:
        return False
    data = message.encode("utf-8") if isinstance(message, str) else message
    try:
        raw = base64.b64decode(signature, validate=False)
        public_key.verify(raw, data, padding.PKCS1v15(), _HASHES[sign_type]())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def _signing_string(
    params: Mapping[str, Any], excluded: tuple[str, ...], include_empty: bool = False
) -> str:
    items = sorted(
        (key, "" if value is None else str(value))
        for key, value in params.items()
        if key not in excluded
    )
    return "&".join(f"{k}={v}" for k, v in items if include_empty or v != "")


def request_signing_string(params: Mapping[str, Any], *, include_empty: bool = False) -> str:
    """All but `sign` (sign_type stays), empty values dropped, code-point order, raw values."""
    return _signing_string(params, ("sign",), include_empty)


def sign_request(params: Mapping[str, Any], private_key: rsa.RSAPrivateKey) -> dict[str, str]:
    """Return the parameters with `sign` added (sign_type defaults to RSA2)."""
    signed = {k: str(v) for k, v in params.items() if v is not None and str(v) != ""}
    signed.setdefault("sign_type", RSA2)
    signed["sign"] = sign(request_signing_string(signed), private_key, signed["sign_type"])
    return signed


def verify_request(params: Mapping[str, Any], public_key: rsa.RSAPublicKey) -> bool:
    """Gateway-side request check, retrying with empty values kept for clients that sign `k=`."""
    sign_type = str(params.get("sign_type") or RSA2)
    signature = str(params.get("sign") or "")
    if verify(request_signing_string(params), signature, public_key, sign_type):
        return True
    with_empty = request_signing_string(params, include_empty=True)
    return with_empty != request_signing_string(params) and verify(
        with_empty, signature, public_key, sign_type
    )


def notification_signing_string(fields: Mapping[str, Any]) -> str:
    """Notifications leave out both `sign` and `sign_type`."""
    return _signing_string(fields, ("sign", "sign_type"))


def sign_notification(fields: Mapping[str, Any], private_key: rsa.RSAPrivateKey) -> dict[str, str]:
    """Return the notification's form fields with `sign_type` and `sign`; empty fields dropped."""
    signed = {k: str(v) for k, v in fields.items() if v is not None and str(v) != ""}
    signed["sign_type"] = RSA2
    signed["sign"] = sign(notification_signing_string(signed), private_key)
    return signed


def verify_notification(fields: Mapping[str, Any], public_key: rsa.RSAPublicKey) -> bool:
    """Check an asynchronous notification posted to a merchant's notify_url."""
    sign_type = str(fields.get("sign_type") or RSA2)
    return verify(
        notification_signing_string(fields), str(fields.get("sign") or ""), public_key, sign_type
    )


def response_key(method: str) -> str:
    """`alipay.user.info.share` → `alipay_user_info_share_response`."""
    return method.replace(".", "_") + "_response"


def compact_json(value: Any) -> str:
    """The platform's JSON text: compact separators, raw UTF-8, `/` not escaped."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def build_response(
    key: str,
    inner: Mapping[str, Any],
    private_key: rsa.RSAPrivateKey | None,
    sign_type: str = RSA2,
) -> bytes:
    """Serialise a synchronous response: the inner object, then `sign` over its exact text.

    Without a private key (the app is unknown, so there is nothing to sign for) the body is
    unsigned, which clients must treat as a failure. The platform answers in the algorithm the
    request was signed with, so a legacy `RSA` app gets SHA1withRSA.
    """
    inner_text = compact_json(dict(inner))
    body = "{" + compact_json(key) + ":" + inner_text
    if private_key is not None:
        body += ',"sign":' + compact_json(sign(inner_text, private_key, sign_type))
    return (body + "}").encode("utf-8")


class MalformedResponse(ValueError):
    """A gateway response body that is not the expected JSON envelope."""


def extract_response(body: bytes | str, key: str) -> tuple[str, dict[str, Any], str | None]:
    """Return (exact inner text, inner object, signature) of a response under `key`."""
    inner_text, inner, signature = cut_member(body, key, dict)
    return inner_text, inner, signature


def cut_member(body: bytes | str, key: str, kind: type) -> tuple[str, Any, str | None]:
    """(exact text, value, signature) of the envelope's member `key`, whose value must be a
    `kind` (an object; a string when the answer is encrypted).

    The text is cut from the body as sent, never re-serialised, because the signature covers
    those exact bytes.
    """
    what = "object" if kind is dict else "string"
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    try:
        envelope = json.loads(text)
    except ValueError as exc:
        raise MalformedResponse("response is not JSON") from exc
    if not isinstance(envelope, dict) or not isinstance(envelope.get(key), kind):
        raise MalformedResponse(f"response has no {key!r} {what}")
    marker = re.search(r'"' + re.escape(key) + r'"\s*:\s*', text)
    if marker is None:
        raise MalformedResponse(f"response has no {key!r} {what}")
    _value, end = json.JSONDecoder().raw_decode(text, marker.end())
    signature = envelope.get("sign")
    signed_by = signature if isinstance(signature, str) else None
    return text[marker.end() : end], envelope[key], signed_by
