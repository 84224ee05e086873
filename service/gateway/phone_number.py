"""`my.getPhoneNumber`'s answer, read on the merchant's server (spec §9).

The mini-program hands its server `res.response`, a JSON string of `{"response": "<ciphertext>",
"sign", "sign_type": "RSA2", "encrypt_type": "AES", "charset"}`. The server checks `sign` with
the platform's key over the ciphertext wrapped in double quotes (an unencrypted `{…}` is signed
as it stands), decrypts it with the app's AES key, and reads `code`/`mobile`, or an error such as
`40003 isv.invalid-auth-relations` (written `subcode`, not `sub_code`). Nothing of Minifin's
capabilities is known here: the caller turns `PhoneAnswerError` into its own problem.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from service.gateway import content_encryption, signing

if TYPE_CHECKING:
    from service.gateway.client import GatewayClient

MALFORMED, SIGNATURE, DECRYPTION, REFUSED = "malformed", "signature", "decryption", "refused"
SUCCESS = "10000"


class PhoneAnswerError(ValueError):
    """What is wrong with a handed answer: `reason` is one of the constants above."""

    def __init__(self, reason: str, detail: str, *, code: str = "", sub_code: str = ""):
        super().__init__(detail)
        self.reason, self.detail, self.code, self.sub_code = reason, detail, code, sub_code


@dataclass(frozen=True)
class HandedAnswer:
    """The fields of `res.response` as the mini-program received them."""

    response: str
    sign: str
    sign_type: str = signing.RSA2
    encrypt_type: str = ""


def handed_answer(payload: Mapping[str, Any]) -> HandedAnswer:
    """The answer from what the mini-program posted: `res.response` whole, or its fields."""
    fields: Any = payload
    if "sign" not in payload:
        try:
            fields = json.loads(str(payload.get("response") or ""))
        except ValueError:
            raise PhoneAnswerError(MALFORMED, "response is neither JSON nor its fields") from None
    if not isinstance(fields, Mapping):
        raise PhoneAnswerError(MALFORMED, "response must be a JSON object")
    response, sign = fields.get("response"), fields.get("sign")
    if not isinstance(response, str) or not response or not isinstance(sign, str) or not sign:
        raise PhoneAnswerError(MALFORMED, "the answer needs its response and sign")
    return HandedAnswer(
        response, sign, str(fields.get("sign_type") or signing.RSA2),
        str(fields.get("encrypt_type") or ""),
    )  # fmt: skip


def verified_mobile(gateway: GatewayClient, answer: HandedAnswer) -> str:
    """The mobile the platform gave, once its signature and the AES key have both checked out."""
    if answer.sign_type != signing.RSA2:
        raise PhoneAnswerError(MALFORMED, "sign_type must be RSA2")
    if not gateway.verifies(content_encryption.signed_content(answer.response), answer.sign):
        raise PhoneAnswerError(SIGNATURE, "the platform's signature does not verify")
    content = _content(gateway, answer)
    code = str(content.get("code") or "")
    if code != SUCCESS:
        sub_code = str(content.get("subcode") or content.get("sub_code") or "")
        detail = str(content.get("submsg") or content.get("msg") or "refused")
        raise PhoneAnswerError(REFUSED, detail, code=code, sub_code=sub_code)
    mobile = content.get("mobile")
    if not isinstance(mobile, str) or not mobile:
        raise PhoneAnswerError(MALFORMED, "the platform's answer holds no mobile")
    return mobile


def _content(gateway: GatewayClient, answer: HandedAnswer) -> dict[str, Any]:
    if answer.response.lstrip().startswith("{"):  # unencrypted, as it stands
        try:
            value = json.loads(answer.response)
        except ValueError:
            raise PhoneAnswerError(MALFORMED, "the response is not JSON") from None
        if not isinstance(value, dict):
            raise PhoneAnswerError(MALFORMED, "the response is not a JSON object")
        return value
    key = gateway.content_key
    if key is None:
        raise PhoneAnswerError(DECRYPTION, "no AES key is configured (MINIFIN_APP_AES_KEY)")
    try:
        return content_encryption.decrypt_json_object(answer.response, key)
    except content_encryption.DecryptionFailed:
        detail = "the response does not decrypt with the app's AES key"
        raise PhoneAnswerError(DECRYPTION, detail) from None
