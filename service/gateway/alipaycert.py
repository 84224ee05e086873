"""`alipay.open.app.alipaycert.download`: a platform certificate by its SN (certificate mode).

The client calls it when an answer names an `alipay_cert_sn` it does not hold: the platform
rotated its certificate. The answer's `alipay_cert_content` is the base64 of the PEM text; what
makes it trusted is the chain check to the root bundle (`cert_mode.CertificateMode`), not the
download itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.gateway.client import GatewayClient

METHOD = "alipay.open.app.alipaycert.download"


def download_certificate(gateway: GatewayClient, alipay_cert_sn: str) -> str:
    """The base64 `alipay_cert_content` of the platform certificate with this SN."""
    answer = gateway.call(METHOD, {"alipay_cert_sn": alipay_cert_sn}, safe_to_retry=True)
    return str(answer.get("alipay_cert_content", ""))
