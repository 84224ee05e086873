"""`alipay.open.app.alipaycert.download`: any certificate the mock issued, by its SN.

A client in certificate mode calls it when a response names an `alipay_cert_sn` it does not
hold (the platform rotated its certificate). The answer is `alipay_cert_content`, the base64 of
the PEM text; the client must check that it chains to its root bundle before trusting it.
"""

from __future__ import annotations

import base64
from typing import Any

from service.mock_idp.app_certificates import issued_pem
from service.mock_idp.cert_mode import refusal
from service.mock_idp.parameters import text_parameter
from service.mock_idp.protocol import GatewayCall, GatewayMethod

DOWNLOAD_METHOD = "alipay.open.app.alipaycert.download"


def download(call: GatewayCall) -> dict[str, Any]:
    """The certificate's PEM, base64-encoded, or 40004 when no certificate has that SN."""
    sn = text_parameter(call.biz, "alipay_cert_sn", max_length=64)
    pem = issued_pem(call.store, sn)
    if pem is None:
        raise refusal("alipay_cert_not_exist")
    return {"alipay_cert_content": base64.b64encode(pem.encode("ascii")).decode("ascii")}


METHODS = (GatewayMethod(DOWNLOAD_METHOD, download),)
