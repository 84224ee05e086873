"""`POST /_mock/phone-number`: what `my.getPhoneNumber` hands a mini-program, for tests.

The answer is `res.response` exactly: a JSON string of `{"response", "sign", "sign_type",
"encrypt_type", "charset"}`, where `response` is the AES ciphertext (the app's key) of
`{"code": "10000", "msg": "Success", "mobile": …}` and `sign` the platform's RSA2 signature over
that ciphertext wrapped in double quotes (spec §9). The refusals (`REFUSALS`): an app without the
phone-number product (`"phone_number": true` when registering it) gets the platform's
`40003 isv.invalid-auth-relations` (note `subcode`, not `sub_code`), encrypted and signed the same
way; an app without an AES key gets the unencrypted error object, signed as it stands (the
platform cannot encrypt without a key; that sub-code, `isv.missing-encrypt-key`, is
*unconfirmed*). A user without a mobile is `40003 isv.invalid-auth-relations` as well.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify

from service.gateway import content_encryption, signing
from service.mock_idp.app_certificates import platform_signer
from service.mock_idp.control import ControlError, json_object
from service.mock_idp.runtime import current_platform_key, current_store

phone_number_blueprint = Blueprint("mock_phone_number", __name__, url_prefix="/_mock")
NO_AUTH_RELATION = "isv.invalid-auth-relations"
NO_AES_KEY = "isv.missing-encrypt-key"
REFUSALS: dict[str, dict[str, str]] = {
    NO_AUTH_RELATION: {
        "code": "40003",
        "msg": "Insufficient Conditions",
        "submsg": "无效的授权关系",
    },
    NO_AES_KEY: {
        "code": "40002",
        "msg": "Invalid Arguments",
        "submsg": "应用未设置接口内容加密方式",
    },
}


@phone_number_blueprint.errorhandler(ControlError)
def _control_error(error: ControlError) -> tuple[Response, int]:
    return jsonify(error=error.error, detail=error.detail), error.status


@phone_number_blueprint.post("/phone-number")
def phone_number() -> Response:
    """`{"app_id", "user_id"}` → `{"response": "<res.response, a JSON string>"}`."""
    body = json_object()
    store = current_store()
    app = store.get_app(body.get("app_id") if isinstance(body.get("app_id"), str) else None)
    if app is None:
        raise ControlError(404, "app_not_found", "no such app is registered")
    user = store.get_user(body.get("user_id") if isinstance(body.get("user_id"), str) else None)
    if user is None:
        raise ControlError(404, "user_not_found", "no such user")
    signer = platform_signer(store, app.app_id)  # the app's key mode: a certificate's key
    key = signer[0] if signer else current_platform_key()
    if app.aes_key is None:
        return jsonify(response=handed_answer(_refusal(NO_AES_KEY), None, key))
    if not app.phone_number or not user.get("mobile"):
        content = _refusal(NO_AUTH_RELATION)
    else:
        content = {"code": "10000", "msg": "Success", "mobile": user["mobile"]}
    return jsonify(response=handed_answer(content, content_encryption.load_key(app.aes_key), key))


def handed_answer(content: dict[str, Any], aes_key: bytes | None, platform_key: Any) -> str:
    """`res.response`: the content encrypted (or, without a key, as it stands) and signed by the
    platform's key in the app's mode (its public key's, or its current certificate's)."""
    text = signing.compact_json(content)
    response = content_encryption.encrypt(text, aes_key) if aes_key is not None else text
    answer = {
        "response": response,
        "sign": signing.sign(content_encryption.signed_content(response), platform_key),
        "sign_type": signing.RSA2,
        **({"encrypt_type": content_encryption.AES} if aes_key is not None else {}),
        "charset": "UTF-8",
    }
    return json.dumps(answer, ensure_ascii=False, separators=(",", ":"))


def _refusal(sub_code: str) -> dict[str, str]:
    refusal = REFUSALS[sub_code]
    return {"code": refusal["code"], "msg": refusal["msg"], "subcode": sub_code,
            "submsg": refusal["submsg"]}  # fmt: skip
