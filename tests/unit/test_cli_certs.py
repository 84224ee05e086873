"""`minifin keys csr` and `minifin keys certs [--check]` on files like the console's."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from cryptography import x509

from service.cli import main
from service.gateway import certificates, signing
from service.mock_idp import certificate_authority

APP_ID = "2021000000000001"


@pytest.fixture(scope="module")
def console_files(tmp_path_factory):
    """An app key and the three files a CA issued for it (the mock's CA, as in the mock)."""
    directory = tmp_path_factory.mktemp("console")
    key = signing.generate_private_key()
    first, second = (certificate_authority.rsa_root(f"Root R{n}") for n in (1, 2))
    elliptic = certificate_authority.ec_root("Root E1")
    platform = certificate_authority.platform_certificate(second, APP_ID)
    app = certificate_authority.issue(second, f"App {APP_ID}", key.public_key(), unit="App")
    bundle = [first.certificate, elliptic.certificate, second.certificate]
    paths = {
        "--app-key": (directory / "app.pem", signing.private_key_pem(key)),
        "--app-cert": (directory / "app.crt", certificates.certificate_pem(app)),
        "--platform-cert": (directory / "platform.crt", platform.pem),
        "--root-cert": (directory / "root.crt", certificate_authority.bundle_pem(bundle)),
    }
    for path, text in paths.values():
        path.write_text(text)
    return key, {option: str(path) for option, (path, _text) in paths.items()}


def _options(files: dict[str, str]) -> list[str]:
    return [item for pair in files.items() for item in pair]


def test_csr_is_a_request_for_the_app_key(console_files, tmp_path):
    key, files = console_files
    out = tmp_path / "app.csr"

    result = CliRunner().invoke(
        main, ["keys", "csr", "--key", files["--app-key"], "--app-id", APP_ID, "--out", str(out)]
    )

    assert result.exit_code == 0, result.output
    csr = x509.load_pem_x509_csr(out.read_bytes())
    assert csr.is_signature_valid
    assert csr.public_key().public_numbers() == key.public_key().public_numbers()
    assert APP_ID in csr.subject.rfc4514_string()


def test_certs_explains_the_files_and_check_passes_when_they_fit(console_files):
    _key, files = console_files

    result = CliRunner().invoke(main, ["keys", "certs", "--check", *_options(files)])

    assert result.exit_code == 0, result.output
    root_pem = open(files["--root-cert"]).read()  # noqa: SIM115
    assert f"alipay_root_cert_sn: {certificates.root_cert_sn(root_pem)}" in result.output
    assert "not RSA, skipped" in result.output and "valid now" in result.output
    assert result.output.rstrip().endswith("the platform's chains")


def test_check_fails_for_another_key_and_a_foreign_root(console_files, tmp_path):
    _key, files = console_files
    other_key = tmp_path / "other.pem"
    other_key.write_text(signing.private_key_pem(signing.generate_private_key()))
    foreign_root = tmp_path / "foreign.crt"
    foreign_root.write_text(certificate_authority.rsa_root("Root R2").pem)
    wrong = {**files, "--app-key": str(other_key), "--root-cert": str(foreign_root)}

    result = CliRunner().invoke(main, ["keys", "certs", "--check", *_options(wrong)])

    assert result.exit_code == 1
    assert "certifies another key" in result.output
    assert "does not chain to the root bundle" in result.output
