"""Certificate mode's primitives: SNs as the platform's SDKs compute them, bundles, chains."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from service.gateway import certificates
from service.gateway.signing import generate_private_key
from service.mock_idp import certificate_authority

alipay = pytest.importorskip("alipay", reason="python-alipay-sdk is not installed")


@pytest.fixture(scope="module")
def roots():
    return (
        certificate_authority.rsa_root("Mock Root R1"),
        certificate_authority.rsa_root("Mock Root R2"),
        certificate_authority.ec_root("Mock Root E1"),
    )


@pytest.fixture(scope="module")
def bundle(roots):
    first, second, elliptic = roots
    return certificate_authority.bundle_pem(
        [first.certificate, elliptic.certificate, second.certificate]
    )


@pytest.fixture(scope="module")
def platform(roots):
    return certificate_authority.platform_certificate(roots[1], "2021000000000001")


def test_the_sn_is_the_md5_of_the_reversed_issuer_dn_and_the_decimal_serial(roots, platform):
    issuer = "CN=Mock Root R2,OU=Certification Authority,O=Minifin Mock Platform,C=CN"
    text = issuer + str(platform.certificate.serial_number)
    expected = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

    assert certificates.issuer_dn(platform.certificate) == issuer
    assert certificates.cert_sn(platform.certificate) == expected
    assert certificates.cert_sn(platform.pem) == expected


def test_the_sns_agree_with_python_alipay_sdk(bundle, platform):
    assert certificates.cert_sn(platform.pem) == alipay.DCAliPay.get_cert_sn(platform.pem)
    assert certificates.root_cert_sn(bundle) == alipay.DCAliPay.get_root_cert_sn(bundle)


def test_the_root_sn_skips_non_rsa_certificates_and_keeps_file_order(roots, bundle):
    first, second, _elliptic = roots

    sn = certificates.root_cert_sn(bundle)

    first_sn, second_sn = (certificates.cert_sn(c.certificate) for c in (first, second))
    assert sn == f"{first_sn}_{second_sn}"
    assert len(certificates.load_certificates(bundle)) == 3


def test_an_unparsable_block_is_skipped_like_the_real_bundles_sm2_root(roots, bundle):
    body = "MIIBszCCAVegAwIBAgIIaeL+wBcKxnswDAYIKoEcz1UBg3UFADAu"
    broken = f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"

    assert certificates.root_cert_sn(broken + "\n" + bundle) == certificates.root_cert_sn(bundle)


def test_a_bundle_without_rsa_roots_is_refused(roots):
    with pytest.raises(certificates.CertificateError):
        certificates.root_cert_sn(roots[2].pem)
    with pytest.raises(certificates.CertificateError):
        certificates.load_certificate("no certificate here")


def test_a_platform_certificate_chains_to_its_root_in_the_bundle(bundle, platform):
    assert certificates.chain_problem(platform.certificate, bundle) is None


def test_a_certificate_from_another_ca_does_not_chain(bundle):
    stranger = certificate_authority.platform_certificate(
        certificate_authority.rsa_root("Mock Root R2"), "2021000000000001"
    )

    problem = certificates.chain_problem(stranger.certificate, bundle)

    assert problem is not None and "does not chain" in problem


def test_a_chain_through_an_intermediate_is_followed(roots, bundle):
    key = generate_private_key()
    intermediate_cert = certificate_authority.issue(
        roots[0], "Mock Class 2", key.public_key(), unit="CA"
    )
    leaf = certificate_authority.platform_certificate(
        certificate_authority.Issued(intermediate_cert, key), "2021000000000001"
    )

    assert certificates.chain_problem(leaf.certificate, bundle) is not None
    assert (
        certificates.chain_problem(leaf.certificate, bundle, intermediates=[intermediate_cert])
        is None
    )


def test_validity_is_checked_now(bundle, platform):
    later = datetime.now(UTC) + certificate_authority.VALID_FOR + timedelta(days=2)
    earlier = datetime.now(UTC) - timedelta(days=30)

    assert certificates.validity_problem(platform.certificate) is None
    assert "expired" in (certificates.validity_problem(platform.certificate, later) or "")
    assert "not valid before" in (
        certificates.validity_problem(platform.certificate, earlier) or ""
    )
    assert "expired" in (certificates.chain_problem(platform.certificate, bundle, now=later) or "")


def test_the_public_key_is_the_one_certified(platform):
    assert certificates.public_key_of(platform.certificate).public_numbers() == (
        platform.key.public_key().public_numbers()
    )
