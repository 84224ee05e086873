"""`python-alipay-sdk`, unchanged, against the mock: it signs, the mock verifies, and back again."""

from __future__ import annotations

import pytest

from service.gateway import signing
from tests.mock_idp_helpers import DEMO_USER_ID, TEST_APP_ID

alipay = pytest.importorskip("alipay", reason="python-alipay-sdk is not installed")
AliPay = alipay.AliPay
AliPayException = alipay.exceptions.AliPayException
AliPayValidationError = alipay.exceptions.AliPayValidationError

OAUTH = "alipay.system.oauth.token"
USER_INFO = "alipay.user.info.share"


@pytest.fixture
def mock(standalone_mock, app_key):
    return standalone_mock.reset_with_test_app(app_key, key_format="base64", privileged=True)


def sdk_client(mock, app_key, sign_type: str = "RSA2") -> AliPay:
    client = AliPay(
        appid=TEST_APP_ID,
        app_notify_url=None,
        app_private_key_string=signing.private_key_pem(app_key),
        alipay_public_key_string=mock.platform_public_key_pem,
        sign_type=sign_type,
    )
    client._gateway = mock.url + "/gateway.do"
    return client


@pytest.fixture
def sdk(mock, app_key):
    return sdk_client(mock, app_key)


def test_the_sdk_exchanges_an_auth_code_and_verifies_the_signed_answer(mock, sdk):
    code = mock.auth_code(TEST_APP_ID, scopes=("auth_user",))

    result = sdk.server_api(OAUTH, grant_type="authorization_code", code=code)

    assert result["code"] == "10000" and "sub_code" not in result
    assert result["user_id"] == DEMO_USER_ID
    assert result["access_token"] and result["refresh_token"]
    calls = mock.control.get("/_mock/calls", params={"method": OAUTH}).json()["calls"]
    assert [call["http_method"] for call in calls] == ["GET"]


def test_the_sdk_refreshes_a_token(mock, sdk):
    code = mock.auth_code(TEST_APP_ID)
    first = sdk.server_api(OAUTH, grant_type="authorization_code", code=code)

    second = sdk.server_api(OAUTH, grant_type="refresh_token", refresh_token=first["refresh_token"])

    assert second["user_id"] == DEMO_USER_ID
    assert second["access_token"] != first["access_token"]


def test_the_sdk_reads_the_full_profile_with_non_ascii_values(mock, sdk):
    code = mock.auth_code(TEST_APP_ID, scopes=("auth_user",))
    token = sdk.server_api(OAUTH, grant_type="authorization_code", code=code)["access_token"]

    profile = sdk.server_api(USER_INFO, auth_token=token)

    assert profile["code"] == "10000"
    assert profile["nick_name"] == "阿伟" and profile["user_name"] == "张伟"
    assert profile["cert_no"] == "110101198803141119"


def test_the_sdk_works_with_legacy_rsa_signatures(mock, app_key):
    legacy = sdk_client(mock, app_key, sign_type="RSA")
    code = mock.auth_code(TEST_APP_ID)

    result = legacy.server_api(OAUTH, grant_type="authorization_code", code=code)

    assert result["user_id"] == DEMO_USER_ID


def test_the_sdk_refuses_the_error_response_for_an_invalid_code(mock, sdk):
    with pytest.raises(AliPayException) as caught:
        sdk.server_api(OAUTH, grant_type="authorization_code", code="not-a-code")

    assert "isv.code-invalid" in str(caught.value)
    assert '"error_response"' in str(caught.value)


def test_the_sdk_raises_when_the_answer_signature_does_not_verify(mock, sdk):
    mock.add_fault(method=OAUTH, kind="bad_signature", times=1)

    with pytest.raises(AliPayValidationError):
        sdk.server_api(OAUTH, grant_type="authorization_code", code=mock.auth_code(TEST_APP_ID))


def test_the_sdk_refuses_an_unsigned_answer(mock, sdk):
    mock.add_fault(method=OAUTH, kind="unsigned", times=1)

    with pytest.raises(AliPayException):
        sdk.server_api(OAUTH, grant_type="authorization_code", code=mock.auth_code(TEST_APP_ID))


def test_the_sdk_sees_a_profile_error_as_a_failure(mock, sdk):
    code = mock.auth_code(TEST_APP_ID, scopes=("auth_base",))
    token = sdk.server_api(OAUTH, grant_type="authorization_code", code=code)["access_token"]

    with pytest.raises(AliPayException) as caught:
        sdk.server_api(USER_INFO, auth_token=token)

    assert "isv.insufficient-user-permissions" in str(caught.value)


def test_the_sdk_verifies_an_error_whose_echo_held_unbalanced_braces(mock, app_key):
    stranger_key = signing.generate_private_key()
    wrong = sdk_client(mock, stranger_key)  # signs with a key the mock does not know

    # Errors under the method's key are signed: the SDK verifies them and hands them back,
    # which it can only do if its brace counting found the exact signed text.
    result = wrong.server_api(USER_INFO, biz_content={"note": "}}"}, auth_token="x")

    assert (result["code"], result["sub_code"]) == ("40002", "isv.invalid-signature")
    assert "auth_token=x" in result["sub_msg"]
