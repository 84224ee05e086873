"""Content encryption as the mock's gateway serves it: encrypted requests in, encrypted answers out.

An app registered with an AES key must send its encrypted methods (`aes_methods`, `*` for every
one that carries a `biz_content`) with `encrypt_type=AES`; the request's signature is checked
first, over the ciphertext as sent, then `biz_content` is decrypted for the method. A request that
came encrypted is answered encrypted under the method's own key. The platform's refusals, from its
public error-code list (`isv.decryption-error-missing-encrypt-type` is documented there with its
message; the other sub-codes and every other message are *unconfirmed*), kept in one table,
`REFUSALS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.gateway import content_encryption
from service.mock_idp.protocol import GatewayError

if TYPE_CHECKING:
    from service.mock_idp.apps import AppRecord

MISSING_ENCRYPT_TYPE = "isv.decryption-error-missing-encrypt-type"
INVALID_ENCRYPT_TYPE = "isv.decryption-error-not-valid-encrypt-type"
INVALID_ENCRYPT_KEY = "isv.decryption-error-not-valid-encrypt-key"
DECRYPTION_FAILED = "isv.decryption-error-unknown"
REFUSALS: dict[str, tuple[str, str]] = {
    # sub_code: (code, sub_msg)
    MISSING_ENCRYPT_TYPE: ("40001", "解密出错, 未指定加密算法"),
    INVALID_ENCRYPT_TYPE: ("40002", "解密出错, 不支持的加密算法"),
    INVALID_ENCRYPT_KEY: ("40002", "解密出错, 无效的加密密钥, 请检查应用的接口内容加密方式"),
    DECRYPTION_FAILED: ("40002", "解密出错, 未知异常"),
}


def refusal(sub_code: str) -> GatewayError:
    """The platform's answer for one of the decryption errors."""
    code, sub_msg = REFUSALS[sub_code]
    return GatewayError(code, sub_code, sub_msg)


def decrypted_request(
    params: dict[str, str], app: AppRecord, method: str, *, enforce: bool = True
) -> tuple[dict[str, str], bytes | None]:
    """The parameters with `biz_content` in clear, and the key to answer with (None: clear).

    `enforce` False (the browser pages, which the platform opens from clear URLs) still reads an
    encrypted request but does not insist on one.
    """
    encrypt_type = params.get("encrypt_type")
    if not encrypt_type:
        if enforce and app.encrypts(method, params):
            raise refusal(MISSING_ENCRYPT_TYPE)
        return params, None
    if encrypt_type != content_encryption.AES:
        raise refusal(INVALID_ENCRYPT_TYPE)
    if app.aes_key is None:
        raise refusal(INVALID_ENCRYPT_KEY)
    key = content_encryption.load_key(app.aes_key)
    if not params.get("biz_content"):
        return params, key
    try:
        clear = content_encryption.decrypt(params["biz_content"], key)
    except content_encryption.DecryptionFailed:
        raise refusal(DECRYPTION_FAILED) from None
    return {**params, "biz_content": clear}, key


def encrypted_body(key_name: str, inner_text: str, aes_key: bytes) -> tuple[str, str]:
    """(the response's body without its signature, the quoted text to sign) for an answer."""
    quoted = '"' + content_encryption.encrypt(inner_text, aes_key) + '"'
    return '{"' + key_name + '":' + quoted, quoted
