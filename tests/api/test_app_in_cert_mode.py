"""A whole Minifin app configured in certificate mode, against the mock over loopback HTTP.

Login through the public API, the platform's rotation mid-run (the next call downloads the new
certificate into the database, where a second process finds it), a payment notification signed
with the rotated key, accepted by both processes (on each engine), and a gift bought and paid
through the public API across a rotation.
"""

from __future__ import annotations

import json
import secrets
import time

import httpx
import pytest

from config import ConfigError
from service.extensions import db
from service.gateway import payments, signing
from service.platform_certificates import DatabaseCertificateStore, PlatformCertificate
from tests.conftest import bearer, migrated_app
from tests.gifting_helpers import COFFEE, client_token, order
from tests.live_server import served_minifin

CERT_APP_ID = "2021000000000735"  # an app of its own: no other test registers it
USER_ID = "2088102146225135"


@pytest.fixture
def cert_app_files(mock_idp):
    key = signing.generate_private_key()
    response = httpx.post(
        f"{mock_idp.url}/_mock/apps",
        json={
            "app_id": CERT_APP_ID,
            "public_key": signing.public_key_pem(key),
            "key_mode": "cert",
            "force_cert": True,
        },
    )
    assert response.status_code in (200, 201), response.text
    return key, response.json()["certificates"]


def cert_settings(key, files) -> dict[str, str]:
    return {
        "MINIFIN_APP_ID": CERT_APP_ID,
        "MINIFIN_APP_PRIVATE_KEY": signing.private_key_pem(key),
        "MINIFIN_APP_CERT": files["app_cert"],
        "MINIFIN_PLATFORM_CERT": files["alipay_cert"],
        "MINIFIN_PLATFORM_ROOT_CERT": files["alipay_root_cert"],
    }


def login(application, mock_url: str, user_id: str = USER_ID) -> dict:
    code = httpx.post(
        f"{mock_url}/_mock/auth-codes",
        json={"app_id": CERT_APP_ID, "user_id": user_id, "scopes": ["auth_user"]},
    ).json()["auth_code"]
    response = application.test_client().post("/v1/sessions", json={"auth_code": code})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_login_rotation_and_notifications_in_certificate_mode(
    app_env, any_database_url, mock_idp, cert_app_files
):
    key, files = cert_app_files
    settings = cert_settings(key, files)
    with migrated_app(app_env, any_database_url, **settings) as application:
        assert login(application, mock_idp.url)["user"]["id"].startswith("usr_")
        gateway = application.extensions["minifin"].gateway
        with application.app_context():
            trade_no = payments.create_trade(
                gateway, out_trade_no=f"cert_mode_{secrets.token_hex(8)}", amount_fen=990,
                subject="gift", buyer_id=USER_ID, notify_url="http://127.0.0.1:9/notify",
            )  # fmt: skip

        rotated = httpx.post(
            f"{mock_idp.url}/_mock/platform-cert/rotate", json={"app_id": CERT_APP_ID}
        ).json()
        assert httpx.post(f"{mock_idp.url}/_mock/trades/{trade_no}/pay").status_code == 200
        login(application, mock_idp.url)  # the next call fetches the new certificate

        with application.app_context():
            kept = list(db.session.scalars(db.select(PlatformCertificate.sn)))
            db.session.rollback()
        assert kept == [rotated["alipay_cert_sn"]]
        notice = _notification(mock_idp.url, trade_no)
        with application.app_context():
            assert gateway.verify_notification(notice)
            assert not gateway.verify_notification({**notice, "total_amount": "0.01"})

    # a second process trusts the kept certificate with no call of its own
    with migrated_app(app_env, any_database_url, **settings) as other, other.app_context():
        assert other.extensions["minifin"].gateway.verify_notification(notice)
        kept_pem = DatabaseCertificateStore().get(rotated["alipay_cert_sn"])
        assert kept_pem == rotated["alipay_cert"]


def _notification(mock_url: str, trade_no: str) -> dict[str, str]:
    found = httpx.get(f"{mock_url}/_mock/notifications", params={"trade_no": trade_no}).json()
    (notice,) = found["notifications"]
    return notice["fields"]


def test_a_half_certificate_configuration_stops_the_start(app_env, database_url, cert_app_files):
    key, files = cert_app_files
    settings = cert_settings(key, files)
    del settings["MINIFIN_PLATFORM_ROOT_CERT"]

    needed = "MINIFIN_PLATFORM_ROOT_CERT: needed in certificate mode"
    with pytest.raises(ConfigError, match=needed), migrated_app(app_env, database_url, **settings):
        pass


def test_a_certificate_for_another_key_stops_the_start(app_env, database_url, cert_app_files):
    _key, files = cert_app_files
    settings = cert_settings(signing.generate_private_key(), files)

    another = "MINIFIN_APP_CERT: certifies another key"
    with pytest.raises(ConfigError, match=another), migrated_app(app_env, database_url, **settings):
        pass


def test_a_gift_is_bought_and_its_payment_notified_across_a_rotation(
    app, app_env, mock_idp, demo_users, cert_app_files
):
    """The public API end to end: login, buying a gift, the mock rotating its certificate, the
    next call fetching it, and the cashier's payment notification (signed with the new key)
    scheduling the gift. (`app` migrates the session's database.)"""
    key, files = cert_app_files
    with served_minifin(app_env, **cert_settings(key, files)) as live:
        minifin = live.app
        with httpx.Client(base_url=live.url, timeout=10) as api:
            merchant = bearer(client_token(minifin, minifin.test_client(), "templates:write"))
            template = api.post("/v1/voucher-templates", json=COFFEE, headers=merchant).json()
            sender = login(minifin, mock_idp.url, demo_users[0]["user_id"])
            friend = login(minifin, mock_idp.url, demo_users[1]["user_id"])
            people = {"sender": bearer(sender["access_token"]), "friend_id": friend["user"]["id"]}
            gift = api.post(
                "/v1/gifts", json=order(template, people),
                headers={**people["sender"], "Idempotency-Key": secrets.token_hex(8)},
            ).json()  # fmt: skip
            assert gift["status"] == "pending_payment", gift

            rotated = httpx.post(
                f"{mock_idp.url}/_mock/platform-cert/rotate", json={"app_id": CERT_APP_ID}
            ).json()
            login(minifin, mock_idp.url, demo_users[2]["user_id"])  # fetches the new one
            httpx.post(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}/pay").raise_for_status()
            now = _when_paid(api, gift["id"], people["sender"])

    assert now["status"] == "scheduled"
    assert now["events"][-1]["detail"] == {"via": "notification"}
    (notice,) = httpx.get(
        f"{mock_idp.url}/_mock/notifications", params={"trade_no": gift["trade_no"]}
    ).json()["notifications"]
    assert notice["state"] == "delivered" and len(notice["attempts"]) == 1
    with minifin.app_context():
        assert DatabaseCertificateStore().get(rotated["alipay_cert_sn"])


def _when_paid(api: httpx.Client, gift_id: str, headers: dict) -> dict:
    deadline = time.monotonic() + 15
    while True:
        now = api.get(f"/v1/gifts/{gift_id}", headers=headers).json()
        if now["status"] != "pending_payment" or time.monotonic() > deadline:
            return now
        time.sleep(0.1)


def test_a_phone_number_is_proven_in_certificate_mode_with_content_encryption(
    app_env, any_database_url, mock_idp, demo_users
):
    """`my.getPhoneNumber`'s answer to an app in certificate mode is signed by the platform
    certificate's key; Minifin, configured with the three files and the AES key, accepts it,
    and its gateway calls of the login went encrypted."""
    key = signing.generate_private_key()
    aes_key = "AAECAwQFBgcICQoLDA0ODw=="
    registered = httpx.post(
        f"{mock_idp.url}/_mock/apps",
        json={"app_id": CERT_APP_ID, "public_key": signing.public_key_pem(key),
              "key_mode": "cert", "force_cert": True, "aes_key": aes_key,
              "aes_methods": ["*"], "phone_number": True},
    )  # fmt: skip
    assert registered.status_code in (200, 201), registered.text
    settings = cert_settings(key, registered.json()["certificates"])
    try:
        with migrated_app(app_env, any_database_url, **settings,
                          MINIFIN_APP_AES_KEY=aes_key) as application:  # fmt: skip
            person = demo_users[1]
            tokens = login(application, mock_idp.url, person["user_id"])
            handed = httpx.post(
                f"{mock_idp.url}/_mock/phone-number",
                json={"app_id": CERT_APP_ID, "user_id": person["user_id"]},
            ).json()["response"]
            assert json.loads(handed)["encrypt_type"] == "AES"
            proven = application.test_client().post(
                "/v1/me/phone", json={"response": handed}, headers=bearer(tokens["access_token"])
            )
            assert proven.status_code == 200, proven.get_json()
            mobile = person["mobile"]
            assert proven.get_json()["phone"] == f"{mobile[:3]}****{mobile[-4:]}"

            # after a rotation, the next answer is signed by a certificate Minifin learns then
            httpx.post(f"{mock_idp.url}/_mock/platform-cert/rotate", json={"app_id": CERT_APP_ID})
            again = httpx.post(
                f"{mock_idp.url}/_mock/phone-number",
                json={"app_id": CERT_APP_ID, "user_id": person["user_id"]},
            ).json()["response"]
            proven = application.test_client().post(
                "/v1/me/phone", json={"response": again}, headers=bearer(tokens["access_token"])
            )
            assert proven.status_code == 200, proven.get_json()
    finally:
        httpx.post(f"{mock_idp.url}/_mock/apps", json={
            "app_id": CERT_APP_ID, "public_key": signing.public_key_pem(key), "key_mode": "cert",
            "force_cert": True, "aes_key": False, "phone_number": False})  # fmt: skip
