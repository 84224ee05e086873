"""The mock's throw-away certificate authority: roots, platform certificates, app certificates.

It issues what the platform's console hands a merchant in certificate mode: a root bundle (two
RSA roots and one EC root, which stands for the real bundle's SM2 root that RSA tooling skips),
a platform certificate under the second RSA root, and an app certificate for the app's key or a
CSR. Every issuer name holds CN, OU, O and C, because the platform's SDKs (python-alipay-sdk's
`DCAliPay` among them) write the issuer as exactly `CN=…,OU=…,O=…,C=…`. The bundle separates
its certificates by a blank line, which is how that SDK splits it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from service.gateway.certificates import certificate_pem
from service.gateway.signing import generate_private_key

VALID_FOR = timedelta(days=3650)
BACKDATED = timedelta(days=1)  # a client's clock a little behind still sees them valid
ORGANISATION = "Minifin Mock Platform"
CA_UNIT = "Certification Authority"

IssuerKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Issued:
    """A certificate and, for the ones the mock signs with, its private key."""

    certificate: x509.Certificate
    key: IssuerKey | None = None

    @property
    def pem(self) -> str:
        """The certificate's PEM text."""
        return certificate_pem(self.certificate)


def name(common_name: str, unit: str = CA_UNIT) -> x509.Name:
    """A DN in ASN.1 order C, O, OU, CN (so the SN rule writes it CN=…,OU=…,O=…,C=…)."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key, *, ca: bool
) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(secrets.randbits(63) | 1 << 62)
        .not_valid_before(now - BACKDATED)
        .not_valid_after(now + VALID_FOR)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )


def rsa_root(common_name: str) -> Issued:
    """A self-signed RSA root (sha256WithRSAEncryption)."""
    key = generate_private_key()
    subject = name(common_name)
    certificate = _builder(subject, subject, key.public_key(), ca=True).sign(key, hashes.SHA256())
    return Issued(certificate, key)


def ec_root(common_name: str) -> Issued:
    """A self-signed EC root: in the bundle only, where RSA tooling must skip it."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = name(common_name)
    certificate = _builder(subject, subject, key.public_key(), ca=True).sign(key, hashes.SHA256())
    return Issued(certificate, key)


def issue(
    issuer: Issued, common_name: str, public_key: rsa.RSAPublicKey, *, unit: str
) -> x509.Certificate:
    """An end-entity certificate for `public_key`, signed by `issuer`'s key."""
    assert isinstance(issuer.key, rsa.RSAPrivateKey), "the mock issues under its RSA roots"
    builder = _builder(name(common_name, unit), issuer.certificate.subject, public_key, ca=False)
    return builder.sign(issuer.key, hashes.SHA256())


def platform_certificate(root: Issued, app_id: str) -> Issued:
    """A new platform certificate (with a new key) for the app's responses and notifications."""
    key = generate_private_key()
    certificate = issue(
        root, f"Mock Platform RSA2 {app_id}", key.public_key(), unit="Open Platform"
    )
    return Issued(certificate, key)


def public_key_of_csr(csr_pem: str) -> rsa.RSAPublicKey:
    """The RSA key a CSR asks a certificate for, once its self-signature checks."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode("ascii"))
    except (ValueError, UnicodeError) as exc:
        raise ValueError(f"not a PEM certificate request: {exc}") from None
    if not csr.is_signature_valid:
        raise ValueError("the certificate request's signature does not check")
    key = csr.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the certificate request is not for an RSA key")
    return key


def bundle_pem(certificates: list[x509.Certificate]) -> str:
    """Several PEM certificates in one file, a blank line between them."""
    return "\n".join(certificate_pem(c) for c in certificates)
