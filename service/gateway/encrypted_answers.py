"""Reading an encrypted gateway answer: the signature over its quoted ciphertext, then the key.

The client's counterpart of `content_encryption`: an answer whose `<method>_response` is a JSON
string is verified over that string's text as cut from the body, quotes included (spec §9);
nothing of it is used before that. Any failure is `GatewayBadResponse`, an unknown outcome for a
money call, exactly like an unverified clear answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from service.gateway import content_encryption, signing
from service.gateway.errors import GatewayBadResponse

log = logging.getLogger("service.gateway.client")


def verified_inner(
    method: str,
    quoted: str,
    ciphertext: str,
    signature: str | None,
    *,
    key_for: Callable[[dict[str, Any]], Any],
    aes_key: bytes | None,
) -> dict[str, Any]:
    """The decrypted inner object of an encrypted answer whose signature verifies.

    `key_for(inner)` names the key that must have signed it: in certificate mode a certificate
    download is checked with the certificate it serves, so the inner object is decrypted first,
    and returned only once the signature over the quoted ciphertext verifies.
    """
    if not signature:
        log.error("gateway %s encrypted answer is not signed; body withheld", method)
        raise GatewayBadResponse(f"The platform's answer to {method} failed verification.")
    if aes_key is None:
        log.error("gateway %s answered encrypted but MINIFIN_APP_AES_KEY is not set", method)
        raise GatewayBadResponse(f"The platform's answer to {method} could not be read.")
    try:
        inner = content_encryption.decrypt_json_object(ciphertext, aes_key)
    except content_encryption.DecryptionFailed as exc:
        log.error("gateway %s encrypted answer did not decrypt: is the AES key right?", method)
        raise GatewayBadResponse(f"The platform's answer to {method} could not be read.") from exc
    if not signing.verify(quoted, signature, key_for(inner)):
        log.error("gateway %s encrypted answer did not verify; body withheld", method)
        raise GatewayBadResponse(f"The platform's answer to {method} failed verification.")
    return inner
