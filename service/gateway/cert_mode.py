"""The gateway client's certificate mode: the app's SNs, and the platform certificates it trusts.

Loaded once at start from the console's three files, every problem found at once, one line each
naming its variable (an app certificate for another key, an expired certificate, a platform
certificate that does not chain to the root bundle). At run time it answers the SNs every request
carries and the key that verifies an answer, by the answer's `alipay_cert_sn`. A platform
certificate it does not hold is downloaded (`alipay.open.app.alipaycert.download`), must chain
to the root bundle and be valid now, and is then kept in the shared store, so every process
trusts it without a restart; one that does not chain is refused and never kept.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from service.gateway import certificates, signing
from service.gateway.alipaycert import METHOD as DOWNLOAD_METHOD
from service.gateway.errors import GatewayBadResponse, GatewayRejected, GatewayUnavailable

REFRESH_INTERVAL_SECONDS = 60.0


class PlatformCertificateStore(Protocol):
    """Where downloaded platform certificates are kept, shared by every process."""

    def get(self, sn: str) -> str | None:
        """The PEM kept under an SN, or None."""

    def put(self, sn: str, pem: str) -> None:
        """Keep a certificate (a second put of the same SN is harmless)."""

    def all(self) -> list[str]:
        """Every kept PEM, newest first."""


class MemoryCertificateStore:
    """A store of one process's own (tests, and a client built without a database)."""

    def __init__(self) -> None:
        self._pems: dict[str, str] = {}

    def get(self, sn: str) -> str | None:
        return self._pems.get(sn)

    def put(self, sn: str, pem: str) -> None:
        self._pems.setdefault(sn, pem)

    def all(self) -> list[str]:
        return list(reversed(self._pems.values()))


class CertificateConfigError(ValueError):
    """The certificate files cannot be used: one line per problem, each naming its variable."""


class UntrustedCertificate(ValueError):
    """A platform certificate that does not chain to the root bundle, or is not valid now."""


class KeyMode:
    """Plain public-key mode: one configured platform key verifies everything."""

    def __init__(self, platform_key: rsa.RSAPublicKey):
        self._key = platform_key

    def request_parameters(self) -> dict[str, str]:
        """Key mode adds no common parameter."""
        return {}

    def answer_key(
        self, method: str, sn: str | None, inner: Any, download: Any
    ) -> rsa.RSAPublicKey:
        """The configured key, whatever the answer names."""
        return self._key

    def notification_keys(self) -> list[rsa.RSAPublicKey]:
        """The configured key."""
        return [self._key]

    def verify_notification(self, fields: Mapping[str, Any], ask: Any) -> bool:
        """Signed by the configured key."""
        return signing.verify_notification(fields, self._key)

    def verify_signed(self, verified_by: Callable[[rsa.RSAPublicKey], bool], ask: Any) -> bool:
        """Signed by the configured key."""
        return verified_by(self._key)


class CertificateMode:
    """The app's SNs and the platform certificates (by SN) that verify the gateway's answers."""

    def __init__(
        self,
        app_private_key: rsa.RSAPrivateKey,
        app_cert: str,
        platform_cert: str,
        root_cert: str,
        store: PlatformCertificateStore | None = None,
    ):
        problems: list[str] = []
        self.app_cert_sn = _app_cert_sn(app_private_key, app_cert, problems)
        self.root_cert_sn = _root_cert_sn(root_cert, problems)
        self._roots = certificates.load_certificates(root_cert)
        platform = self._configured_platform(platform_cert, problems)
        if problems:
            raise CertificateConfigError("\n".join(problems))
        assert platform is not None
        self.store = store or MemoryCertificateStore()
        self._lock = threading.Lock()
        self._refreshed_at = float("-inf")
        self._fetching = threading.local()  # SNs this thread is downloading (no recursion)
        self.platform_cert_sn = certificates.cert_sn(platform)
        self._keys: dict[str, rsa.RSAPublicKey] = {
            self.platform_cert_sn: certificates.public_key_of(platform)
        }

    def _configured_platform(self, pem: str, problems: list[str]) -> x509.Certificate | None:
        try:
            chain = certificates.load_certificates(pem)
            if not chain:
                raise certificates.CertificateError("no PEM certificate found")
            certificates.public_key_of(chain[0])
        except certificates.CertificateError as exc:
            problems.append(f"MINIFIN_PLATFORM_CERT: {exc}")
            return None
        problem = certificates.chain_problem(chain[0], self._roots, intermediates=chain[1:])
        if problem and self._roots:
            problems.append(f"MINIFIN_PLATFORM_CERT: {problem} (MINIFIN_PLATFORM_ROOT_CERT)")
        return chain[0]

    def request_parameters(self) -> dict[str, str]:
        """The common parameters certificate mode adds to every request (inside the signature)."""
        return {"app_cert_sn": self.app_cert_sn, "alipay_root_cert_sn": self.root_cert_sn}

    def held_key(self, sn: str) -> rsa.RSAPublicKey | None:
        """The key of a platform certificate already trusted (configured, or kept), or None."""
        if sn in self._keys:
            return self._keys[sn]
        pem = self.store.get(sn)
        return self._trust(sn, pem) if pem is not None else None

    def key_for(self, sn: str, download: Callable[[str], str]) -> rsa.RSAPublicKey:
        """The key of the platform certificate `sn`, downloaded, checked and kept when new."""
        held = self.held_key(sn)
        if held is not None:
            return held
        fetching = self._fetching.__dict__.setdefault("sns", set())
        if sn in fetching:  # the download's own answer names it, and it did not carry it
            raise UntrustedCertificate(f"platform certificate {sn}: the download did not serve it")
        fetching.add(sn)
        try:
            pem = download(sn)
        finally:
            fetching.discard(sn)
        key = self._trust(sn, pem)
        self.store.put(sn, pem)
        return key

    def key_in_download(self, sn: str, content: str) -> rsa.RSAPublicKey:
        """The key of the certificate a download answer carries, once it chains (it signed it)."""
        return self._trust(sn, certificates_pem_from_download(content))

    def answer_key(
        self,
        method: str,
        sn: str | None,
        inner: Mapping[str, Any],
        download: Callable[[str], str],
    ) -> rsa.RSAPublicKey:
        """The key that must have signed an answer naming `sn` (none: the configured one).

        The download's own answer is signed under the certificate it carries when that one is
        new, so that certificate is checked first (the download does not call itself).
        """
        sn = sn or self.platform_cert_sn
        if method == DOWNLOAD_METHOD and self.held_key(sn) is None:
            content = str(inner.get("alipay_cert_content", ""))
            if _sn_or_none(certificates_pem_from_download(content)) == sn:
                return self.key_in_download(sn, content)
        return self.key_for(sn, download)

    def verify_notification(self, fields: Mapping[str, Any], ask: Callable[[str], object]) -> bool:
        """Signed by a trusted platform certificate's key (a notification names none)."""
        return self.verify_signed(lambda key: signing.verify_notification(fields, key), ask)

    def verify_signed(
        self, verified_by: Callable[[rsa.RSAPublicKey], bool], ask: Callable[[str], object]
    ) -> bool:
        """Whether a trusted platform key verifies what names no certificate (a notification, a
        phone answer). Failing that, it may come just after a rotation: one call (`ask`, rate
        limited) names the current certificate, fetched if new, and it is checked again."""
        if any(verified_by(key) for key in self.notification_keys()):
            return True
        if not self.may_refresh(time.monotonic()):
            return False
        try:
            ask(self.platform_cert_sn)
        except (GatewayBadResponse, GatewayRejected, GatewayUnavailable):
            return False
        return any(verified_by(key) for key in self.notification_keys())

    def may_refresh(self, now: float) -> bool:
        """Whether a notification no trusted key verifies may make one call to learn the current
        certificate (at most once a minute, so forged notifications cannot drive calls)."""
        with self._lock:
            if now - self._refreshed_at < REFRESH_INTERVAL_SECONDS:
                return False
            self._refreshed_at = now
            return True

    def notification_keys(self) -> list[rsa.RSAPublicKey]:
        """Every trusted platform key, newest kept first: a notification names no SN."""
        for pem in self.store.all():
            sn = _sn_or_none(pem)
            if sn is not None and sn not in self._keys:
                try:
                    self._trust(sn, pem)
                except UntrustedCertificate:
                    continue
        return list(reversed(self._keys.values()))

    def _trust(self, sn: str, pem: str) -> rsa.RSAPublicKey:
        try:
            chain = certificates.load_certificates(pem)
            if not chain:
                raise certificates.CertificateError("no PEM certificate found")
            certificate = chain[0]
            key = certificates.public_key_of(certificate)
        except certificates.CertificateError as exc:
            raise UntrustedCertificate(f"platform certificate {sn}: {exc}") from exc
        if certificates.cert_sn(certificate) != sn:
            raise UntrustedCertificate(f"platform certificate {sn}: its SN is another")
        problem = certificates.chain_problem(certificate, self._roots, intermediates=chain[1:])
        if problem:
            raise UntrustedCertificate(f"platform certificate {sn}: {problem}")
        with self._lock:
            self._keys[sn] = key
        return key


def certificates_pem_from_download(content: str) -> str:
    """`alipay_cert_content` is the base64 of the PEM text."""
    try:
        return base64.b64decode(content, validate=False).decode("ascii")
    except (binascii.Error, ValueError) as exc:
        raise UntrustedCertificate("alipay_cert_content is not base64 PEM") from exc


def _sn_or_none(pem: str) -> str | None:
    try:
        return certificates.cert_sn(pem)
    except certificates.CertificateError:
        return None


def _app_cert_sn(key: rsa.RSAPrivateKey, pem: str, problems: list[str]) -> str:
    try:
        certificate = certificates.load_certificate(pem)
        certified = certificates.public_key_of(certificate)
    except certificates.CertificateError as exc:
        problems.append(f"MINIFIN_APP_CERT: {exc}")
        return ""
    if certified.public_numbers() != key.public_key().public_numbers():
        problems.append(
            "MINIFIN_APP_CERT: certifies another key than MINIFIN_APP_PRIVATE_KEY's "
            "(issue it for this key's CSR: `minifin keys csr`)"
        )
    validity = certificates.validity_problem(certificate)
    if validity:
        problems.append(f"MINIFIN_APP_CERT: {validity}")
    return certificates.cert_sn(certificate)


def _root_cert_sn(pem: str, problems: list[str]) -> str:
    try:
        return certificates.root_cert_sn(pem)
    except certificates.CertificateError as exc:
        problems.append(f"MINIFIN_PLATFORM_ROOT_CERT: {exc}")
        return ""


@dataclass(frozen=True)
class CertificateFiles:
    """Certificate mode's files as configured: the app's, the platform's, the root bundle."""

    app_cert: str
    platform_cert: str
    root_cert: str
    store: PlatformCertificateStore | None = None


def certificate_mode(
    key: rsa.RSAPrivateKey, files: CertificateFiles | None
) -> CertificateMode | None:
    """The client's certificate mode for these files, or None in key mode."""
    if files is None:
        return None
    return CertificateMode(key, files.app_cert, files.platform_cert, files.root_cert, files.store)


def answer_cert_sn(body: bytes) -> str | None:
    """The top-level `alipay_cert_sn` of an answer, if it has one."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return None
    sn = envelope.get("alipay_cert_sn") if isinstance(envelope, dict) else None
    return sn if isinstance(sn, str) and sn else None
