"""Response bodies as the mock writes them: the success shape, safe braces, and the signature.

`render_response` can also sign badly on purpose (`corrupt`, `none`), for the faults that test a
client's verification.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from service.gateway import signing
from service.mock_idp.encryption import encrypted_body
from service.mock_idp.protocol import MESSAGES, SUCCESS_CODE


def success_inner(fields: Mapping[str, Any]) -> dict[str, Any]:
    """`code` 10000 and `msg` Success first, then the business fields; never a `sub_code`."""
    business = {
        key: value for key, value in fields.items() if key not in ("code", "msg", "sub_code")
    }
    return {"code": SUCCESS_CODE, "msg": MESSAGES[SUCCESS_CODE], **business}


def has_balanced_braces(text: str) -> bool:
    """Whether brace-counting clients can walk over this string without losing their place."""
    depth = 0
    for character in text:
        depth += {"{": 1, "}": -1}.get(character, 0)
        if depth < 0:
            return False
    return depth == 0


def without_unbalanced_braces(value: Any) -> Any:
    """Replace `{`/`}` by full-width brackets in any string whose braces do not pair up."""
    if isinstance(value, str):
        if has_balanced_braces(value):
            return value
        return value.replace("{", "｛").replace("}", "｝")
    if isinstance(value, dict):
        return {key: without_unbalanced_braces(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_unbalanced_braces(item) for item in value]
    return value


def render_response(
    key: str,
    inner: Mapping[str, Any],
    private_key: Any,
    *,
    signature: str = "valid",
    sign_type: str = signing.RSA2,
    alipay_cert_sn: str | None = None,
    aes_key: bytes | None = None,
) -> bytes:
    """The response body: inner object, then `sign` (`valid`, `corrupt` or `none`).

    With `aes_key` (the request came encrypted) the inner object goes as its ciphertext, a JSON
    string, and the signature covers that string's text with its quotes (spec §9). In
    certificate mode a signed body ends with `alipay_cert_sn`, the SN of the platform
    certificate whose key signed it (after `sign`, where clients expect it).
    """
    safe_inner = without_unbalanced_braces(dict(inner))
    if aes_key is not None:
        encrypted = _encrypted(key, safe_inner, private_key, signature, sign_type, aes_key)
        if private_key is None:
            return encrypted
        return _with_cert_sn(encrypted.decode("utf-8"), alipay_cert_sn)
    if private_key is None or signature == "none":
        return signing.build_response(key, safe_inner, None)
    body = signing.build_response(key, safe_inner, private_key, sign_type).decode("utf-8")
    if signature == "corrupt":
        raw = bytearray(base64.b64decode(json.loads(body)["sign"]))
        raw[len(raw) // 2] ^= 0xFF
        body = _with_signature(body, base64.b64encode(bytes(raw)).decode("ascii"))
    return _with_cert_sn(body, alipay_cert_sn)


def _with_cert_sn(body: str, alipay_cert_sn: str | None) -> bytes:
    """A signed body, with `alipay_cert_sn` last in certificate mode."""
    if alipay_cert_sn:
        body = body[:-1] + ',"alipay_cert_sn":' + signing.compact_json(alipay_cert_sn) + "}"
    return body.encode("utf-8")


def _encrypted(
    key: str,
    inner: dict[str, Any],
    private_key: Any,
    signature: str,
    sign_type: str,
    aes_key: bytes,
) -> bytes:
    head, quoted = encrypted_body(key, signing.compact_json(inner), aes_key)
    if private_key is None or signature == "none":
        return (head + "}").encode("utf-8")
    sign = signing.sign(quoted, private_key, sign_type)
    if signature == "corrupt":
        raw = bytearray(base64.b64decode(sign))
        raw[len(raw) // 2] ^= 0xFF
        sign = base64.b64encode(bytes(raw)).decode("ascii")
    return (head + ',"sign":' + signing.compact_json(sign) + "}").encode("utf-8")


def response_sign_type(params: Mapping[str, str]) -> str:
    """The algorithm to answer in: the request's, when it is one the gateway knows."""
    sign_type = params.get("sign_type") or signing.RSA2
    return sign_type if sign_type in (signing.RSA2, signing.LEGACY_RSA) else signing.RSA2


def _with_signature(body: str, signature: str) -> str:
    """Replace the trailing `"sign"` value (always last in the bodies build_response makes)."""
    head, _, _old = body.rpartition(',"sign":"')
    return head + ',"sign":' + signing.compact_json(signature) + "}"
