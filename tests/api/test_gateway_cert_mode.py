"""Minifin's gateway client in certificate mode, over HTTP against the mock in that mode.

Requests carry the SNs (the mock's forced mode refuses them otherwise), answers are verified
with the certificate their `alipay_cert_sn` names, a rotated certificate is downloaded, checked
and kept, and a certificate of another CA fails the call as a bad answer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from service.gateway import alipaycert, certificates, fund_auth, oauth, payments, signing
from service.gateway.cert_mode import (
    CertificateConfigError,
    CertificateMode,
    MemoryCertificateStore,
    UntrustedCertificate,
)
from service.gateway.client import CertificateFiles, GatewayClient
from service.gateway.errors import GatewayBadResponse, GatewayRejected
from service.mock_idp import certificate_authority
from tests.mock_idp_helpers import DEMO_USER_ID, TEST_APP_ID


@pytest.fixture
def mock(standalone_mock, app_key):
    return standalone_mock.reset_with_test_app(app_key, key_mode="cert", force_cert=True)


def files(mock) -> dict[str, str]:
    return mock.control.get(f"/_mock/apps/{TEST_APP_ID}").json()["certificates"]


def cert_client(mock, app_key, store=None, issued=None) -> GatewayClient:
    issued = issued or files(mock)
    return GatewayClient(
        mock.url + "/gateway.do",
        TEST_APP_ID,
        signing.private_key_pem(app_key),
        None,
        certificates=CertificateFiles(
            issued["app_cert"], issued["alipay_cert"], issued["alipay_root_cert"], store
        ),
        retries=0,
    )


def rotate(mock) -> dict[str, str]:
    response = mock.control.post("/_mock/platform-cert/rotate", json={"app_id": TEST_APP_ID})
    assert response.status_code == 200, response.text
    return response.json()


def methods_called(mock) -> list[str]:
    return [call["method"] for call in mock.control.get("/_mock/calls").json()["calls"]]


def test_a_login_in_certificate_mode_carries_the_sns_and_verifies(mock, app_key):
    client = cert_client(mock, app_key)

    token = oauth.exchange_auth_code(client, mock.auth_code(TEST_APP_ID))

    assert token["user_id"] == DEMO_USER_ID
    params = client.signed_parameters("alipay.trade.query", {})
    assert params["app_cert_sn"] == files(mock)["app_cert_sn"]
    assert params["alipay_root_cert_sn"] == files(mock)["alipay_root_cert_sn"]
    client.close()


def test_after_a_rotation_the_next_call_fetches_keeps_and_uses_the_new_certificate(mock, app_key):
    store = MemoryCertificateStore()
    client = cert_client(mock, app_key, store)
    oauth.exchange_auth_code(client, mock.auth_code(TEST_APP_ID))

    rotated = rotate(mock)
    token = oauth.exchange_auth_code(client, mock.auth_code(TEST_APP_ID))

    assert token["user_id"] == DEMO_USER_ID
    assert store.get(rotated["alipay_cert_sn"]) == rotated["alipay_cert"]
    assert methods_called(mock).count(alipaycert.METHOD) == 1
    # another process sharing the store trusts it without downloading it again
    other = cert_client(mock, app_key, store)
    oauth.exchange_auth_code(other, mock.auth_code(TEST_APP_ID))
    assert methods_called(mock).count(alipaycert.METHOD) == 1
    client.close()
    other.close()


def test_a_notification_signed_with_the_rotated_key_is_accepted(mock, app_key):
    client = cert_client(mock, app_key)
    trade_no = payments.create_trade(
        client, out_trade_no="cert_gift_1", amount_fen=990, subject="gift",
        buyer_id=DEMO_USER_ID, notify_url="http://127.0.0.1:9/notify",
    )  # fmt: skip
    rotate(mock)
    mock.pay(trade_no)
    (notice,) = mock.wait_for_notifications(lambda found: len(found) == 1, trade_no=trade_no)

    # the new key is not known yet: one call names the new SN, which is fetched
    assert client.verify_notification(notice["fields"])
    assert methods_called(mock).count(alipaycert.METHOD) == 2  # the ask, then the fetch
    forged = {**notice["fields"], "total_amount": "0.01"}
    assert not client.verify_notification(forged)
    assert not client.verify_notification(forged)
    assert methods_called(mock).count(alipaycert.METHOD) == 2  # forgeries drive no calls
    client.close()


def test_an_answer_under_another_cas_certificate_fails_as_a_bad_answer(mock, app_key, caplog):
    store = MemoryCertificateStore()
    client = cert_client(mock, app_key, store)
    oauth.exchange_auth_code(client, mock.auth_code(TEST_APP_ID))
    mock.reset_with_test_app(app_key, key_mode="cert", force_cert=True)  # a CA of its own anew

    with pytest.raises(GatewayBadResponse, match="untrusted certificate"):
        payments.query_trade(client, out_trade_no="any")

    assert "untrusted certificate" in caplog.text and store.all() == []
    client.close()


def test_a_downloaded_certificate_of_another_ca_is_refused_and_not_kept(mock, app_key):
    issued = files(mock)
    store = MemoryCertificateStore()
    mode = CertificateMode(
        app_key, issued["app_cert"], issued["alipay_cert"], issued["alipay_root_cert"], store
    )
    stranger = certificate_authority.platform_certificate(
        certificate_authority.rsa_root("Mock Root CA R2"), TEST_APP_ID
    )
    sn = certificates.cert_sn(stranger.certificate)

    with pytest.raises(UntrustedCertificate, match="does not chain to the root bundle"):
        mode.key_for(sn, lambda _sn: stranger.pem)
    with pytest.raises(UntrustedCertificate, match="its SN is another"):
        mode.key_for("0" * 32, lambda _sn: issued["alipay_cert"])

    assert store.all() == [] and mode.held_key(sn) is None
    rotated = rotate(mock)
    key = mode.key_for(rotated["alipay_cert_sn"], lambda _sn: rotated["alipay_cert"])
    assert store.get(rotated["alipay_cert_sn"]) == rotated["alipay_cert"]
    assert (
        key.public_numbers()
        == certificates.public_key_of(
            certificates.load_certificate(rotated["alipay_cert"])
        ).public_numbers()
    )


def test_a_refusal_is_still_verified_under_the_certificate(mock, app_key):
    issued = files(mock)
    mock.register_app(TEST_APP_ID, signing.public_key_pem(app_key), key_mode="cert")
    client = cert_client(mock, app_key)

    with pytest.raises(GatewayRejected) as refused:
        oauth.exchange_auth_code(client, "not-a-code")

    assert refused.value.sub_code == "isv.code-invalid"
    assert files(mock)["alipay_cert_sn"] == issued["alipay_cert_sn"]
    client.close()


def _expired_certificate_for(key) -> str:
    now = datetime.now(UTC)
    name = certificate_authority.name("Expired App")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now - timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificates.certificate_pem(certificate)


def test_loading_reports_every_problem_on_a_line_naming_its_variable(mock, app_key):
    issued = files(mock)
    stranger = certificate_authority.platform_certificate(
        certificate_authority.rsa_root("Mock Root CA R2"), TEST_APP_ID
    )

    with pytest.raises(CertificateConfigError) as wrong:
        CertificateMode(
            signing.generate_private_key(), issued["app_cert"], stranger.pem,
            issued["alipay_root_cert"],
        )  # fmt: skip
    with pytest.raises(CertificateConfigError) as expired:
        CertificateMode(
            app_key, _expired_certificate_for(app_key), issued["alipay_cert"], "no bundle"
        )

    lines = str(wrong.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("MINIFIN_APP_CERT: certifies another key")
    assert lines[1].startswith("MINIFIN_PLATFORM_CERT:") and "does not chain" in lines[1]
    lines = str(expired.value).splitlines()
    assert lines[0].startswith("MINIFIN_APP_CERT: expired on")
    assert lines[1].startswith("MINIFIN_PLATFORM_ROOT_CERT:")


def test_a_deposit_freeze_and_unfreeze_in_certificate_mode(mock, app_key):
    client = cert_client(mock, app_key)
    order_str = fund_auth.freeze_order_string(
        client, out_order_no="cert_dep_1", out_request_no="cert_dep_1_f", title="押金",
        amount_fen=300000, category="RENT_PHONE", service_id="", pay_timeout_minutes=15,
        notify_url="http://127.0.0.1:9/notify",
    )  # fmt: skip
    assert "app_cert_sn=" in order_str and "alipay_root_cert_sn=" in order_str
    frozen = mock.frozen(order_str, user_id=DEMO_USER_ID)

    released = fund_auth.unfreeze(
        client, auth_no=frozen["auth_no"], out_request_no="cert_dep_1_u", amount_fen=100000,
        remark="partial return",
    )  # fmt: skip

    assert released.amount_fen == 100000
    notices = mock.wait_for_notifications(lambda found: len(found) >= 1, auth_no=frozen["auth_no"])
    assert all(client.verify_notification(notice["fields"]) for notice in notices)
    client.close()
