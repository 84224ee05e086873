"""Certificate mode in the gateway: the SN checks of a request, and who signs the answer.

The refusals are kept in one table, since their sub-codes are *unconfirmed* (reference §8). The
checks run once the request's signature has checked against the app's public key (the key its
current app certificate certifies), so a request is first the app's, then in the right mode:

- an app in key mode ignores `app_cert_sn` and `alipay_root_cert_sn` (unknown parameters are
  accepted and still signed);
- an app in certificate mode that sends no `app_cert_sn` is served as in key mode unless it is
  forced (`force_cert`), which refuses it;
- once `app_cert_sn` is sent (or the app is forced), it must be the current app certificate's SN
  and `alipay_root_cert_sn` must be the root bundle's (missing counts as not matching).
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric import rsa

from service.mock_idp.app_certificates import certificate_set, platform_signer
from service.mock_idp.apps import AppRecord
from service.mock_idp.protocol import GatewayError
from service.mock_idp.store import MockStore

CERT_MODE = "cert"
# Refusal → (code, sub_code, sub_msg). The sub-codes are unconfirmed: change them here only.
REFUSALS: dict[str, tuple[str, str, str]] = {
    "missing_app_cert_sn": (
        "40002",
        "isv.missing-app-cert-sn",
        "缺少应用公钥证书序列号 app_cert_sn",
    ),
    "app_cert_sn_not_match": ("40002", "isv.app-cert-sn-not-match", "应用公钥证书序列号不匹配"),
    "root_cert_sn_not_match": (
        "40002",
        "isv.alipay-root-cert-sn-not-match",
        "支付宝根证书序列号不匹配",
    ),
    "alipay_cert_not_exist": ("40004", "isv.alipay-cert-not-exist", "支付宝公钥证书不存在"),
}


def refusal(name: str) -> GatewayError:
    """The gateway error for a refusal of the table."""
    code, sub_code, sub_msg = REFUSALS[name]
    return GatewayError(code, sub_code, sub_msg)


def check_certificate_sns(params: Mapping[str, str], app: AppRecord, store: MockStore) -> None:
    """Refuse a certificate-mode request whose SNs are missing (when forced) or not the issued."""
    if app.key_mode != CERT_MODE:
        return
    app_cert_sn = params.get("app_cert_sn") or ""
    if not app_cert_sn and not app.force_cert:
        return
    if not app_cert_sn:
        raise refusal("missing_app_cert_sn")
    issued = certificate_set(store, app.app_id)
    if issued is None or app_cert_sn != issued.app_cert_sn:
        raise refusal("app_cert_sn_not_match")
    if (params.get("alipay_root_cert_sn") or "") != issued.root_cert_sn:
        raise refusal("root_cert_sn_not_match")


def response_signer(
    store: MockStore, app_id: str | None, platform_key: rsa.RSAPrivateKey
) -> tuple[rsa.RSAPrivateKey, str | None]:
    """The key that signs an answer to this app, and the `alipay_cert_sn` to name it by.

    An app in certificate mode is answered by its current platform certificate's key; any other
    by the mock's platform key, with no SN.
    """
    signer = platform_signer(store, app_id or "")
    return signer if signer is not None else (platform_key, None)
