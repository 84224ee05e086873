"""The mock's Zhima credit over real HTTP: admittance checks, the raw score, credit profiles."""

from __future__ import annotations

import pytest

from service.gateway import signing
from tests.mock_idp_helpers import DEMO_USER_ID, TEST_APP_ID

BRIEF = "zhima.credit.score.brief.get"
SCORE = "zhima.credit.score.get"
BRIEF_PRODUCT = "w1010100000000002733"
SCORE_PRODUCT = "w1010100100000000001"
UNEVALUABLE_USER_ID = "2088102330729916"  # 诸葛明轩: evaluable false in data/demo_users.json
UNEVALUABLE_IDENTITY = {"cert_no": "520102200106066216", "name": "诸葛明轩"}
DEMO_IDENTITY = {"cert_no": "110101198803141119", "name": "张伟"}  # zm_score 742


@pytest.fixture
def mock(standalone_mock, app_key):
    return standalone_mock.reset_with_test_app(app_key, name="押金小程序")


@pytest.fixture
def client(mock, app_key):
    with mock.test_app_client(app_key) as app_client:
        yield app_client


def brief(transaction_id: str = "zm_0001", score: int | str = 700, **changes) -> dict:
    biz = {
        "transaction_id": transaction_id,
        "product_code": BRIEF_PRODUCT,
        "cert_type": "IDENTITY_CARD",
        **DEMO_IDENTITY,
        "admittance_score": score,
        **changes,
    }
    return {key: value for key, value in biz.items() if value is not None}


def grant_zhima(mock, user_id: str = DEMO_USER_ID) -> str:
    return mock.auth_code(TEST_APP_ID, user_id, scopes=("auth_zhima",))


def zhima_token(mock, client, user_id: str = DEMO_USER_ID) -> str:
    reply = client.call(
        "alipay.system.oauth.token",
        grant_type="authorization_code",
        code=grant_zhima(mock, user_id),
        via="post",
    )
    assert reply.succeeded, reply.body
    return reply.inner["access_token"]


def assert_signed_success(reply, client):
    assert (reply.inner["code"], reply.inner["msg"]) == ("10000", "Success"), reply.body
    assert "sub_code" not in reply.inner
    assert client.verifies(reply), reply.body


def assert_signed_error(reply, client, code, sub_code, key=None):
    assert (reply.inner["code"], reply.inner["sub_code"]) == (code, sub_code), reply.body
    assert reply.inner["sub_msg"]
    if key is not None:
        assert reply.key == key, reply.body
    assert client.verifies(reply), reply.body


# The admittance check


def test_a_person_above_the_bar_is_admitted_without_the_score_being_revealed(mock, client):
    grant_zhima(mock)

    reply = client.call(BRIEF, brief(score=700))

    assert_signed_success(reply, client)
    assert reply.key == "zhima_credit_score_brief_get_response"
    assert reply.inner["is_admittance"] == "Y"
    assert reply.inner["biz_no"].startswith("ZM")
    assert "742" not in reply.body


def test_a_person_below_the_bar_is_not_admitted(mock, client):
    grant_zhima(mock)

    reply = client.call(BRIEF, brief(score=800), via="post")

    assert_signed_success(reply, client)
    assert reply.inner["is_admittance"] == "N"


def test_a_person_who_cannot_be_evaluated_is_answered_n_a(mock, client):
    grant_zhima(mock, UNEVALUABLE_USER_ID)

    reply = client.call(BRIEF, brief(**UNEVALUABLE_IDENTITY))

    assert_signed_success(reply, client)
    assert reply.inner["is_admittance"] == "N/A"


def test_a_person_who_never_granted_this_app_auth_zhima_is_refused(mock, client):
    mock.auth_code(TEST_APP_ID, DEMO_USER_ID, scopes=("auth_user",))

    reply = client.call(BRIEF, brief())

    assert_signed_error(reply, client, "40006", "isv.insufficient-user-permissions")


def test_the_same_transaction_id_answers_the_first_result_even_after_the_credit_changed(
    mock, client
):
    grant_zhima(mock)
    first = client.call(BRIEF, brief(score=700))
    assert mock.set_credit(DEMO_USER_ID, zm_score=600).status_code == 200

    again = client.call(BRIEF, brief(score=700))
    fresh = client.call(BRIEF, brief("zm_0002", score=700))

    assert_signed_success(again, client)
    assert (again.inner["biz_no"], again.inner["is_admittance"]) == (first.inner["biz_no"], "Y")
    assert fresh.inner["is_admittance"] == "N"
    assert fresh.inner["biz_no"] != first.inner["biz_no"]


def test_the_same_transaction_id_with_other_content_is_refused(mock, client):
    grant_zhima(mock)
    client.call(BRIEF, brief(score=700))

    reply = client.call(BRIEF, brief(score=650))

    assert_signed_error(reply, client, "40004", "ZHIMA_TRANSACTION_ID_REPEATED")


@pytest.mark.parametrize("score", [349, 951, "abc", "7.5"])
def test_an_admittance_score_outside_350_to_950_is_refused(mock, client, score):
    grant_zhima(mock)

    reply = client.call(BRIEF, brief(score=score))

    assert_signed_error(reply, client, "40002", "isv.invalid-parameter")


def test_a_wrong_product_code_is_refused(mock, client):
    grant_zhima(mock)

    reply = client.call(BRIEF, brief(product_code="w0000"))

    assert_signed_error(reply, client, "40002", "isv.invalid-parameter")


def test_an_injected_fault_on_the_admittance_check_is_answered_and_logged(mock, client):
    grant_zhima(mock)
    mock.add_fault(method=BRIEF, kind="error", code="20000", times=1)

    failed, recovered = client.call(BRIEF, brief()), client.call(BRIEF, brief())

    assert_signed_error(failed, client, "20000", "isp.unknow-error")
    assert recovered.inner["is_admittance"] == "Y"
    calls = mock.control.get("/_mock/calls", params={"method": BRIEF}).json()["calls"]
    assert [call["code"] for call in calls] == ["20000", "10000"]


# The raw score


def test_an_app_granted_the_raw_score_reads_it_under_the_users_token(mock, client, app_key):
    mock.register_app(TEST_APP_ID, signing.public_key_pem(app_key), raw_score=True)
    token = zhima_token(mock, client)

    reply = client.call(
        SCORE, {"transaction_id": "zm_raw_1", "product_code": SCORE_PRODUCT}, auth_token=token
    )

    assert_signed_success(reply, client)
    assert reply.inner["zm_score"] == "742"
    assert reply.inner["biz_no"]


def test_the_raw_score_of_a_person_who_cannot_be_evaluated_is_n_a(mock, client, app_key):
    mock.register_app(TEST_APP_ID, signing.public_key_pem(app_key), raw_score=True)
    token = zhima_token(mock, client, UNEVALUABLE_USER_ID)

    reply = client.call(
        SCORE, {"transaction_id": "zm_raw_2", "product_code": SCORE_PRODUCT}, auth_token=token
    )

    assert reply.inner["zm_score"] == "N/A"


def test_an_app_not_granted_the_raw_score_is_refused(mock, client):
    token = zhima_token(mock, client)

    reply = client.call(
        SCORE, {"transaction_id": "zm_raw_3", "product_code": SCORE_PRODUCT}, auth_token=token
    )

    assert_signed_error(
        reply, client, "40006", "isv.insufficient-isv-permissions", key="error_response"
    )


def test_the_raw_score_needs_a_token_with_auth_zhima(mock, client, app_key):
    mock.register_app(TEST_APP_ID, signing.public_key_pem(app_key), raw_score=True)
    code = mock.auth_code(TEST_APP_ID, DEMO_USER_ID, scopes=("auth_user",))
    token = client.call(
        "alipay.system.oauth.token", grant_type="authorization_code", code=code, via="post"
    ).inner["access_token"]

    reply = client.call(
        SCORE, {"transaction_id": "zm_raw_4", "product_code": SCORE_PRODUCT}, auth_token=token
    )

    assert_signed_error(reply, client, "40006", "isv.insufficient-user-permissions")


# Credit profiles over the control API


def test_putting_credit_merges_the_change_into_the_profile(mock):
    response = mock.set_credit(DEMO_USER_ID, waiver_limit_fen=50_000)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "user_id": DEMO_USER_ID,
        "zm_score": 742,
        "waiver_limit_fen": 50_000,
        "evaluable": True,
    }
    assert mock.user(DEMO_USER_ID)["credit"]["waiver_limit_fen"] == 50_000


def test_a_person_made_unevaluable_loses_the_score_and_is_answered_n_a(mock, client):
    grant_zhima(mock)

    response = mock.set_credit(DEMO_USER_ID, evaluable=False)

    assert response.json()["zm_score"] is None
    assert client.call(BRIEF, brief()).inner["is_admittance"] == "N/A"


def test_a_person_made_evaluable_again_gets_the_default_or_given_score(mock):
    assert mock.set_credit(UNEVALUABLE_USER_ID, evaluable=True).json()["zm_score"] == 650
    assert mock.set_credit(UNEVALUABLE_USER_ID, zm_score=900).json()["zm_score"] == 900


@pytest.mark.parametrize(
    "change",
    [
        {"zm_score": 300},
        {"zm_score": "700"},
        {"waiver_limit_fen": -1},
        {"evaluable": "yes"},
        {"evaluable": False, "zm_score": 700},
        {"credit_line": 5},
    ],
)
def test_an_invalid_credit_profile_is_refused_and_nothing_changes(mock, change):
    response = mock.set_credit(DEMO_USER_ID, **change)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_credit"
    assert response.json()["detail"]
    assert mock.user(DEMO_USER_ID)["credit"]["zm_score"] == 742


def test_putting_the_credit_of_an_unknown_user_is_404(mock):
    response = mock.set_credit("2088000000000000", zm_score=700)

    assert response.status_code == 404
    assert response.json()["error"] == "user_not_found"


def test_putting_credit_needs_a_json_object(mock):
    response = mock.control.put(f"/_mock/users/{DEMO_USER_ID}/credit", content=b"[1]")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"
