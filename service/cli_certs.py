"""`minifin keys csr` and `minifin keys certs`: certificate mode's files, made and explained.

The console asks for a CSR of the app key to issue the app certificate; `csr` writes one for the
key Minifin is configured with (or one given). `certs` explains what a set of certificate files
holds (SNs, subjects, issuers, validity) and, with `--check`, whether they fit together the way
the gateway client will require at start, exiting 1 when they do not; files can be given before
they are configured.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from config import ConfigError, load_settings
from service.gateway import certificates, signing

_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


def _settings_or_none():
    try:
        return load_settings()
    except ConfigError:
        return None


def _text(path: Path | None, configured: str | None, what: str) -> str:
    if path is not None:
        return path.read_text(encoding="utf-8")
    if configured:
        return configured
    raise click.ClickException(f"no {what}: give it as an option or configure it")


@click.command("csr")
@click.option("--key", "key_path", type=_FILE, help="The app private key (default: configured).")
@click.option("--app-id", help="The app id, the certificate's CN (default: configured).")
@click.option("--organization", default="", help="O of the subject (the merchant's name).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write it here.")
def keys_csr(key_path: Path | None, app_id: str | None, organization: str, out: Path | None):
    """Write a certificate request for the app key, to upload in the platform's console."""
    settings = _settings_or_none()
    key = signing.load_private_key(
        _text(key_path, settings.app_private_key if settings else None, "app private key")
    )
    common_name = app_id or (settings.app_id if settings else "")
    if not common_name:
        raise click.ClickException("no app id: give --app-id")
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attributes))
    pem = csr.sign(key, hashes.SHA256()).public_bytes(Encoding.PEM).decode("ascii")
    if out is None:
        click.echo(pem, nl=False)
        return
    out.write_text(pem, encoding="utf-8")
    click.echo(f"wrote {out}: upload it in the console (接口加签方式 › 公钥证书)")


def _describe(label: str, certificate: x509.Certificate, now: datetime) -> None:
    valid = certificates.validity_problem(certificate, now) or "valid now"
    click.echo(f"{label}: SN {certificates.cert_sn(certificate)}")
    click.echo(f"  subject {certificate.subject.rfc4514_string()}")
    click.echo(f"  issuer  {certificates.issuer_dn(certificate)}")
    click.echo(
        f"  valid {certificate.not_valid_before_utc:%Y-%m-%d} to "
        f"{certificate.not_valid_after_utc:%Y-%m-%d} ({valid})"
    )


@click.command("certs")
@click.option("--check", is_flag=True, help="Also check they fit together; exit 1 if not.")
@click.option("--app-key", "key_path", type=_FILE, help="The app private key.")
@click.option("--app-cert", type=_FILE, help="appCertPublicKey_<app_id>.crt")
@click.option("--platform-cert", type=_FILE, help="alipayCertPublicKey_RSA2.crt")
@click.option("--root-cert", type=_FILE, help="alipayRootCert.crt")
def keys_certs(check: bool, key_path, app_cert, platform_cert, root_cert) -> None:
    """Explain certificate mode's files: SNs, subjects, validity, and whether they match."""
    settings = _settings_or_none()
    now = datetime.now(UTC)
    app_pem = _text(app_cert, settings.app_cert if settings else None, "app certificate")
    platform_pem = _text(
        platform_cert, settings.platform_cert if settings else None, "platform certificate"
    )
    root_pem = _text(root_cert, settings.platform_root_cert if settings else None, "root bundle")
    try:
        app = certificates.load_certificate(app_pem)
        chain = certificates.load_certificates(platform_pem)
        platform = chain[0] if chain else certificates.load_certificate(platform_pem)
    except certificates.CertificateError as exc:
        raise click.ClickException(str(exc)) from exc
    _describe("app certificate (app_cert_sn)", app, now)
    _describe("platform certificate (alipay_cert_sn)", platform, now)
    roots = certificates.load_certificates(root_pem)
    rsa_roots = certificates.rsa_certificates(root_pem)
    for root in roots:
        kept = "RSA, in the SN" if root in rsa_roots else "not RSA, skipped"
        click.echo(
            f"root: SN {certificates.cert_sn(root)} ({kept}) {root.subject.rfc4514_string()}"
        )
    if rsa_roots:
        click.echo(f"alipay_root_cert_sn: {certificates.root_cert_sn(root_pem)}")
    if check:
        _check(settings, key_path, app, platform, chain[1:], root_pem, bool(rsa_roots))


def _check(settings, key_path, app, platform, intermediates, root_pem, has_rsa_roots) -> None:
    problems = []
    key_text = _text(key_path, settings.app_private_key if settings else None, "app private key")
    certified = certificates.public_key_of(app).public_numbers()
    if certified != signing.load_private_key(key_text).public_key().public_numbers():
        problems.append("the app certificate certifies another key than the app private key")
    for label, certificate in (("app", app), ("platform", platform)):
        validity = certificates.validity_problem(certificate)
        if validity:
            problems.append(f"the {label} certificate is {validity}")
    if not has_rsa_roots:
        problems.append("the root bundle holds no RSA certificate")
    else:
        chain = certificates.chain_problem(platform, root_pem, intermediates=intermediates)
        if chain:
            problems.append(f"the platform certificate: {chain}")
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo("ok: the app certificate is this key's, both are valid, the platform's chains")
