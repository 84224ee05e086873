"""Public-key certificate mode's primitives: reading the console's PEM files, SNs, chain checks.

Both sides of the wire use them (like `signing`): the gateway client computes `app_cert_sn` and
`alipay_root_cert_sn` for its requests and checks a platform certificate it downloads; the mock
issues certificates and checks the SNs a request carries. One implementation keeps the mock from
accepting SNs the platform, or the platform's own SDKs, would compute differently.

The SN rule (the reference, section 8): lowercase hex MD5 of the issuer's distinguished name
written `CN=…,OU=…,O=…,C=…` (RDNs in reverse of their ASN.1 order, joined with `,`) followed by
the serial number in decimal. The root bundle's SN joins the SNs of its RSA-signed certificates
with `_`, in file order; the others (the real bundle's SM2 root, an EC root) are skipped, and a
PEM block that cannot be parsed at all is skipped as well, as the platform's SDKs do.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

__all__ = [
    "RSA_SIGNATURE_OID_PREFIX",
    "CertificateError",
    "cert_sn",
    "certificate_pem",
    "chain_problem",
    "issuer_dn",
    "load_certificate",
    "load_certificates",
    "public_key_of",
    "root_cert_sn",
    "rsa_certificates",
    "validity_problem",
]

RSA_SIGNATURE_OID_PREFIX = "1.2.840.113549.1.1."
_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----", re.S)
_SHORT_NAMES = {
    NameOID.COMMON_NAME: "CN",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.COUNTRY_NAME: "C",
    NameOID.LOCALITY_NAME: "L",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.EMAIL_ADDRESS: "EMAILADDRESS",
}


class CertificateError(ValueError):
    """A certificate file that holds no certificate the rule can use."""


@dataclass(frozen=True)
class _Block:
    text: str
    certificate: x509.Certificate | None


def _blocks(text: str | bytes) -> list[_Block]:
    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    blocks = []
    for match in _PEM_CERT.finditer(text):
        try:
            certificate = x509.load_pem_x509_certificate(match.group(0).encode("ascii"))
        except ValueError:
            certificate = None  # a form this library cannot read (the real bundle's SM2 root)
        blocks.append(_Block(match.group(0), certificate))
    return blocks


def load_certificates(text: str | bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM file that can be parsed, in file order."""
    return [block.certificate for block in _blocks(text) if block.certificate is not None]


def load_certificate(text: str | bytes) -> x509.Certificate:
    """The first certificate of a PEM file (the app's or the platform's own certificate)."""
    certificates = load_certificates(text)
    if not certificates:
        raise CertificateError("no PEM certificate found")
    return certificates[0]


def certificate_pem(certificate: x509.Certificate) -> str:
    """A certificate as PEM text."""
    return certificate.public_bytes(Encoding.PEM).decode("ascii")


def _is_rsa_signed(certificate: x509.Certificate) -> bool:
    return certificate.signature_algorithm_oid.dotted_string.startswith(RSA_SIGNATURE_OID_PREFIX)


def rsa_certificates(text: str | bytes) -> list[x509.Certificate]:
    """The certificates of a bundle whose signature algorithm is RSA, in file order."""
    return [c for c in load_certificates(text) if _is_rsa_signed(c)]


def issuer_dn(certificate: x509.Certificate) -> str:
    """The issuer DN as the SN rule writes it: reversed RDNs, `type=value`, joined by `,`."""
    parts = []
    for rdn in reversed(certificate.issuer.rdns):
        parts.append(
            "+".join(
                f"{_SHORT_NAMES.get(attribute.oid, attribute.oid.dotted_string)}="
                f"{attribute.value!s}"
                for attribute in rdn
            )
        )
    return ",".join(parts)


def cert_sn(certificate: x509.Certificate | str | bytes) -> str:
    """A certificate's SN: MD5 of its issuer DN followed by its decimal serial number."""
    if not isinstance(certificate, x509.Certificate):
        certificate = load_certificate(certificate)
    text = issuer_dn(certificate) + str(certificate.serial_number)
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def root_cert_sn(bundle: str | bytes) -> str:
    """`alipay_root_cert_sn`: the SNs of the bundle's RSA certificates joined with `_`."""
    sns = [cert_sn(c) for c in rsa_certificates(bundle)]
    if not sns:
        raise CertificateError("the root bundle holds no RSA certificate")
    return "_".join(sns)


def public_key_of(certificate: x509.Certificate) -> rsa.RSAPublicKey:
    """The RSA public key a certificate carries (what verifies the platform's signatures)."""
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise CertificateError("the certificate's key is not RSA")
    return key


def validity_problem(certificate: x509.Certificate, now: datetime | None = None) -> str | None:
    """Why a certificate is not valid now (not yet, or expired), or None."""
    now = now or datetime.now(UTC)
    if now < certificate.not_valid_before_utc:
        return f"not valid before {certificate.not_valid_before_utc:%Y-%m-%d %H:%M:%S} UTC"
    if now > certificate.not_valid_after_utc:
        return f"expired on {certificate.not_valid_after_utc:%Y-%m-%d %H:%M:%S} UTC"
    return None


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def chain_problem(
    certificate: x509.Certificate,
    roots: str | bytes | list[x509.Certificate],
    *,
    intermediates: Sequence[x509.Certificate] = (),
    now: datetime | None = None,
) -> str | None:
    """Why a certificate does not chain to the root bundle and is not valid now, or None.

    The chain is walked from the certificate through the given intermediates (the platform's
    file may carry its issuing CA after its own certificate) to a root of the bundle; every link
    must be signed by the next and be valid now.
    """
    root_list = load_certificates(roots) if isinstance(roots, (str, bytes)) else list(roots)
    current, seen = certificate, 0
    while seen <= len(intermediates):
        problem = validity_problem(current, now)
        if problem:
            return f"{current.subject.rfc4514_string()}: {problem}"
        for root in root_list:
            if _issued_by(current, root):
                root_problem = validity_problem(root, now)
                if root_problem:
                    return f"root {root.subject.rfc4514_string()}: {root_problem}"
                return None
        parent = next((c for c in intermediates if c != current and _issued_by(current, c)), None)
        if parent is None:
            break
        current, seen = parent, seen + 1
    return f"{certificate.subject.rfc4514_string()} does not chain to the root bundle"
