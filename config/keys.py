"""The forms a configured RSA key may take, and the mark of a development key.

They live here, at the bottom layer, because reading the key settings is part of checking the
configuration at start: a production process refuses a key it cannot load, or one `minifin dev`
made, before anything else runs. `service.gateway.signing` builds the signature rules on top of
these loaders (and re-exports them), so there is still one implementation of each.
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DEV_KEY_MARKER = "Minifin development key: never use it in production."
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", re.S)


class KeyFormatError(ValueError):
    """A configured key is in none of the accepted forms."""


def _pem_or_der(text: str | bytes) -> tuple[str | None, bytes]:
    """Split a key given as PEM (explanatory text allowed) or bare base64 into (label, DER)."""
    if isinstance(text, bytes):
        text = text.decode("ascii", errors="strict")
    match = _PEM_BLOCK.search(text)
    label, body = (match.group(1), match.group(2)) if match else (None, text)
    try:
        der = base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyFormatError("key is neither PEM nor base64") from exc
    if not der:
        raise KeyFormatError("key is empty")
    return label, der


def load_private_key(text: str | bytes) -> rsa.RSAPrivateKey:
    """Load an RSA private key from PEM or bare base64, PKCS#1 or PKCS#8."""
    if isinstance(text, rsa.RSAPrivateKey):
        return text
    _label, der = _pem_or_der(text)
    try:
        key = serialization.load_der_private_key(der, password=None)
    except ValueError as exc:
        raise KeyFormatError("not an unencrypted RSA private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFormatError("not an RSA private key")
    return key


def load_public_key(text: str | bytes) -> rsa.RSAPublicKey:
    """Load an RSA public key from PEM or bare base64 (SubjectPublicKeyInfo or PKCS#1)."""
    if isinstance(text, rsa.RSAPublicKey):
        return text
    _label, der = _pem_or_der(text)
    try:
        key = serialization.load_der_public_key(der)
    except ValueError:
        try:
            key = serialization.load_der_public_key(_pkcs1_to_spki(der))
        except ValueError as exc:
            raise KeyFormatError("not an RSA public key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyFormatError("not an RSA public key")
    return key


def _pkcs1_to_spki(der: bytes) -> bytes:
    """Wrap a PKCS#1 RSAPublicKey in a SubjectPublicKeyInfo so one loader handles both."""
    algorithm = bytes.fromhex("300d06092a864886f70d0101010500")
    bit_string = b"\x03" + _der_length(len(der) + 1) + b"\x00" + der
    body = algorithm + bit_string
    return b"\x30" + _der_length(len(body)) + body


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def is_dev_key(text: str | bytes) -> bool:
    """Whether a key file was written by `minifin dev` (production refuses such keys)."""
    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    return DEV_KEY_MARKER in text
