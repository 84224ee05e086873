"""The mock in public-key certificate mode: its files, the SN checks, rotation, the download.

python-alipay-sdk's certificate-mode client (`DCAliPay`) runs against it unchanged: its SNs are
computed from the mock's files, and it verifies the answers with the platform certificate.
"""

from __future__ import annotations

import base64
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from service.gateway import certificates, signing
from tests.mock_idp_helpers import DEMO_USER_ID, TEST_APP_ID, parse_reply

alipay = pytest.importorskip("alipay", reason="python-alipay-sdk is not installed")

OAUTH = "alipay.system.oauth.token"
DOWNLOAD = "alipay.open.app.alipaycert.download"


@pytest.fixture
def mock(standalone_mock, app_key):
    return standalone_mock.reset_with_test_app(app_key, key_mode="cert", privileged=True)


def files(mock) -> dict[str, str]:
    return mock.control.get(f"/_mock/apps/{TEST_APP_ID}").json()["certificates"]


def dc_client(mock, app_key, issued: dict[str, str] | None = None):
    issued = issued or files(mock)
    client = alipay.DCAliPay(
        appid=TEST_APP_ID,
        app_private_key_string=signing.private_key_pem(app_key),
        app_public_key_cert_string=issued["app_cert"],
        alipay_public_key_cert_string=issued["alipay_cert"],
        alipay_root_cert_string=issued["alipay_root_cert"],
    )
    client._gateway = mock.url + "/gateway.do"
    return client


def cert_call(mock, app_key, method: str, biz: dict | None = None, **top):
    """A signed GET carrying the SNs of the mock's files unless overridden (None drops one)."""
    issued = files(mock)
    sns = {
        "app_cert_sn": issued["app_cert_sn"],
        "alipay_root_cert_sn": issued["alipay_root_cert_sn"],
    }
    with mock.test_app_client(app_key) as client:
        params = client.signed_params(method, biz, **{**sns, **top})
        return client.get(params)


def test_the_files_are_the_ones_python_alipay_sdk_computes_the_same_sns_from(mock):
    issued = files(mock)
    bundle = issued["alipay_root_cert"]

    assert alipay.DCAliPay.get_cert_sn(issued["app_cert"]) == issued["app_cert_sn"]
    assert alipay.DCAliPay.get_cert_sn(issued["alipay_cert"]) == issued["alipay_cert_sn"]
    assert alipay.DCAliPay.get_root_cert_sn(bundle) == issued["alipay_root_cert_sn"]
    kinds = [type(c.public_key()).__name__ for c in certificates.load_certificates(bundle)]
    assert len(kinds) == 3 and sum("RSA" in kind for kind in kinds) == 2
    assert issued["alipay_root_cert_sn"].count("_") == 1
    platform = certificates.load_certificate(issued["alipay_cert"])
    assert certificates.chain_problem(platform, bundle) is None


def test_dcalipay_unchanged_logs_in_and_verifies_the_answers(mock, app_key):
    sdk = dc_client(mock, app_key)
    code = mock.auth_code(TEST_APP_ID, scopes=("auth_user",))

    token = sdk.server_api(OAUTH, grant_type="authorization_code", code=code)
    profile = sdk.server_api("alipay.user.info.share", auth_token=token["access_token"])

    assert token["user_id"] == DEMO_USER_ID and profile["code"] == "10000"


def test_answers_carry_the_sn_of_the_certificate_that_signed_them(mock, app_key):
    issued = files(mock)

    response = cert_call(mock, app_key, "alipay.trade.query", {"out_trade_no": "none"})

    body = response.json()
    assert body["alipay_cert_sn"] == issued["alipay_cert_sn"]
    assert list(body)[-2:] == ["sign", "alipay_cert_sn"]
    reply = parse_reply(response, "alipay.trade.query")
    platform_key = certificates.public_key_of(certificates.load_certificate(issued["alipay_cert"]))
    assert signing.verify(reply.inner_text, reply.signature or "", platform_key)
    assert not signing.verify(reply.inner_text, reply.signature or "", mock.platform_public_key)


@pytest.mark.parametrize(
    ("force", "override", "sub_code"),
    [
        (True, {"app_cert_sn": None}, "isv.missing-app-cert-sn"),
        (False, {"app_cert_sn": "0" * 32}, "isv.app-cert-sn-not-match"),
        (False, {"alipay_root_cert_sn": "0" * 32}, "isv.alipay-root-cert-sn-not-match"),
        (True, {"alipay_root_cert_sn": None}, "isv.alipay-root-cert-sn-not-match"),
    ],
)
def test_missing_and_mismatched_sns_are_refused(mock, app_key, force, override, sub_code):
    mock.register_app(TEST_APP_ID, signing.public_key_pem(app_key), force_cert=force)

    reply = parse_reply(
        cert_call(mock, app_key, OAUTH, grant_type="refresh_token", refresh_token="x", **override),
        OAUTH,
    )

    assert (reply.inner["code"], reply.inner["sub_code"]) == ("40002", sub_code)


def test_an_app_not_forced_may_still_call_without_sns(mock, app_key):
    reply = parse_reply(
        cert_call(mock, app_key, "alipay.trade.query", {"out_trade_no": "x"}, app_cert_sn=None),
        "alipay.trade.query",
    )

    assert reply.inner["sub_code"] == "ACQ.TRADE_NOT_EXIST"


def test_an_app_in_key_mode_is_answered_by_the_platform_key_without_an_sn(standalone_mock, app_key):
    mock = standalone_mock.reset_with_test_app(app_key)
    with mock.test_app_client(app_key) as client:
        response = client.get(
            client.signed_params(
                OAUTH, grant_type="refresh_token", refresh_token="x", app_cert_sn="junk"
            )
        )

    assert "alipay_cert_sn" not in response.json()
    assert client.verifies(parse_reply(response, OAUTH))


def test_rotation_issues_a_new_platform_certificate_and_signs_with_it(mock, app_key):
    before = files(mock)

    rotated = mock.control.post("/_mock/platform-cert/rotate", json={"app_id": TEST_APP_ID})

    after = rotated.json()
    assert rotated.status_code == 200 and after == files(mock)
    assert after["alipay_cert_sn"] != before["alipay_cert_sn"]
    assert after["alipay_root_cert_sn"] == before["alipay_root_cert_sn"]
    assert after["app_cert_sn"] == before["app_cert_sn"]
    response = cert_call(mock, app_key, "alipay.trade.query", {"out_trade_no": "none"})
    assert response.json()["alipay_cert_sn"] == after["alipay_cert_sn"]
    new_platform = certificates.load_certificate(after["alipay_cert"])
    assert certificates.chain_problem(new_platform, after["alipay_root_cert"]) is None
    stale = dc_client(mock, app_key, before)  # holds the old platform certificate
    with pytest.raises(alipay.exceptions.AliPayValidationError):
        stale.server_api(OAUTH, grant_type="authorization_code", code=mock.auth_code(TEST_APP_ID))
    fresh = dc_client(mock, app_key, after)
    code = mock.auth_code(TEST_APP_ID)
    assert fresh.server_api(OAUTH, grant_type="authorization_code", code=code)["access_token"]


def test_rotation_is_refused_for_an_app_in_key_mode(standalone_mock, app_key):
    mock = standalone_mock.reset_with_test_app(app_key)

    response = mock.control.post("/_mock/platform-cert/rotate", json={"app_id": TEST_APP_ID})

    assert response.status_code == 400 and response.json()["error"] == "not_in_cert_mode"


def test_the_download_serves_every_certificate_ever_issued(mock, app_key):
    before = files(mock)
    mock.control.post("/_mock/platform-cert/rotate", json={"app_id": TEST_APP_ID})
    after = files(mock)
    sdk = dc_client(mock, app_key, after)

    for sn, pem in (
        (before["alipay_cert_sn"], before["alipay_cert"]),
        (after["alipay_cert_sn"], after["alipay_cert"]),
    ):
        query = sdk.api_alipay_open_app_alipaycert_download(sn)
        body = sdk._verify_and_return_sync_response(
            mock.control.get("/gateway.do?" + query).text,
            "alipay_open_app_alipaycert_download_response",
        )
        assert base64.b64decode(body["alipay_cert_content"]).decode() == pem

    unknown = cert_call(mock, app_key, DOWNLOAD, {"alipay_cert_sn": "f" * 32})
    inner = json.loads(unknown.text)["alipay_open_app_alipaycert_download_response"]
    assert (inner["code"], inner["sub_code"]) == ("40004", "isv.alipay-cert-not-exist")


def test_notifications_are_signed_by_the_platform_certificates_key(mock, app_key):
    trade = cert_call(
        mock,
        app_key,
        "alipay.trade.create",
        {
            "out_trade_no": "cert_1",
            "total_amount": "9.90",
            "subject": "gift",
            "buyer_id": DEMO_USER_ID,
            "product_code": "JSAPI_PAY",
        },
        notify_url="http://127.0.0.1:9/notify",
    )
    created = trade.json()["alipay_trade_create_response"]
    assert created["code"] == "10000", created
    trade_no = created["trade_no"]
    mock.pay(trade_no)
    mock.control.post("/_mock/platform-cert/rotate", json={"app_id": TEST_APP_ID})
    mock.control.post(f"/_mock/trades/{trade_no}/finish")

    first, second = mock.wait_for_notifications(lambda found: len(found) == 2, trade_no=trade_no)

    keys = []
    for notice in (first, second):
        cert = certificates.load_certificate(files(mock)["alipay_cert"])
        keys.append(signing.verify_notification(notice["fields"], certificates.public_key_of(cert)))
    assert sorted(keys) == [False, True]  # the one after the rotation verifies with the new key
    assert not any(
        signing.verify_notification(n["fields"], mock.platform_public_key) for n in (first, second)
    )


def test_an_app_certificate_is_issued_for_a_posted_csr(standalone_mock, app_key):
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TEST_APP_ID)]))
        .sign(app_key, hashes.SHA256())
    )
    pem = csr.public_bytes(signing.serialization.Encoding.PEM).decode()
    standalone_mock.reset()

    response = standalone_mock.control.post(
        "/_mock/apps", json={"app_id": TEST_APP_ID, "csr": pem, "key_mode": "cert"}
    )

    issued = response.json()["certificates"]
    certified = certificates.load_certificate(issued["app_cert"]).public_key()
    assert certified.public_numbers() == app_key.public_key().public_numbers()
    bad = standalone_mock.control.post("/_mock/apps", json={"app_id": TEST_APP_ID, "csr": "nope"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_csr"
