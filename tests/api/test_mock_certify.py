"""The mock's face verification over real HTTP: initialize, query, the control API, faults, page."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.gateway import signing
from tests.mock_idp_helpers import DEMO_USER_ID, OTHER_APP_ID, TEST_APP_ID

INITIALIZE = "alipay.user.certify.open.initialize"
QUERY = "alipay.user.certify.open.query"
CERTIFY = "alipay.user.certify.open.certify"
ZHANG_WEI = {"cert_name": "张伟", "cert_no": "110101198803141119"}  # DEMO_USER_ID
HU_BIN = {"cert_name": "胡斌", "cert_no": "530102197511114012"}  # face fails: FACE_NOT_MATCH
RETURN_URL = "https://shop.example/verified?order=7"


@pytest.fixture
def mock(standalone_mock, app_key):
    return standalone_mock.reset_with_test_app(app_key, name="礼物小程序")


@pytest.fixture
def client(mock, app_key):
    with mock.test_app_client(app_key) as app_client:
        yield app_client


def request_biz(outer_order_no="idv_0001", person=ZHANG_WEI, **changes) -> dict:
    """An initialize biz_content; a change to None leaves that parameter out."""
    biz = {
        "outer_order_no": outer_order_no,
        "biz_code": "FACE",
        "identity_param": {"identity_type": "CERT_INFO", "cert_type": "IDENTITY_CARD", **person},
        "merchant_config": {"return_url": RETURN_URL, "face_reserve_strategy": "never"},
        **changes,
    }
    return {key: value for key, value in biz.items() if value is not None}


def initialize(client, **changes) -> str:
    reply = client.call(INITIALIZE, request_biz(**changes))
    assert reply.inner["code"] == "10000", reply.body
    assert client.verifies(reply)
    return reply.inner["certify_id"]


def query(client, certify_id: str) -> dict:
    reply = client.call(QUERY, {"certify_id": certify_id})
    assert client.verifies(reply), reply.body
    return reply.inner


def complete(mock, certify_id: str, **body):
    return mock.control.post(f"/_mock/certifications/{certify_id}/complete", json=body)


def assert_refused(reply, code: str, sub_code: str, *, key: str = INITIALIZE) -> None:
    assert reply.status == 200
    assert reply.key == signing.response_key(key)
    assert (reply.inner["code"], reply.inner["sub_code"]) == (code, sub_code), reply.body
    assert reply.inner["msg"] and reply.inner["sub_msg"]
    assert "certify_id" not in reply.inner


def test_initialize_returns_a_32_hex_certify_id_in_a_signed_answer(client, mock):
    reply = client.call(INITIALIZE, request_biz(), via="post")

    assert reply.inner["code"] == "10000" and "sub_code" not in reply.inner
    assert re.fullmatch(r"[0-9a-f]{32}", reply.inner["certify_id"])
    assert client.verifies(reply)
    state = mock.control.get(f"/_mock/certifications/{reply.inner['certify_id']}").json()
    assert state["state"] == "INIT"
    assert state["user_id"] == DEMO_USER_ID
    assert state["face_reserve_strategy"] == "never"


def test_nested_parameters_sent_as_json_strings_are_accepted(client):
    biz = request_biz()
    biz["identity_param"] = json.dumps(biz["identity_param"], ensure_ascii=False)
    biz["merchant_config"] = json.dumps(biz["merchant_config"])

    reply = client.call(INITIALIZE, biz)

    assert reply.inner["code"] == "10000", reply.body


def test_the_same_outer_order_no_with_the_same_content_returns_the_same_certify_id(client):
    first = initialize(client)

    assert initialize(client) == first
    assert initialize(client, outer_order_no="idv_0002") != first


def test_the_same_outer_order_no_with_other_content_is_refused(client):
    initialize(client)

    reply = client.call(INITIALIZE, request_biz(person=HU_BIN))

    assert_refused(reply, "40004", "OUTER_ORDER_NO_REPEAT")


def test_another_app_may_use_the_same_outer_order_no(client, mock, app_key):
    mock.register_app(OTHER_APP_ID, signing.public_key_pem(app_key))
    other = mock.app_client(OTHER_APP_ID, app_key)
    try:
        assert initialize(other) != initialize(client)
    finally:
        other.close()


def test_racing_identical_initializations_agree_on_one_certify_id(client):
    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = set(pool.map(lambda _: initialize(client, outer_order_no="idv_race"), range(6)))

    assert len(ids) == 1


@pytest.mark.parametrize(
    ("changes", "mentions"),
    [
        ({"outer_order_no": None}, "outer_order_no"),
        ({"outer_order_no": "x" * 33}, "outer_order_no"),
        ({"outer_order_no": "idv 1/2"}, "outer_order_no"),
        ({"biz_code": "VOICE"}, "biz_code"),
        ({"biz_code": None}, "biz_code"),
        ({"identity_param": None}, "identity_param"),
        ({"merchant_config": None}, "merchant_config"),
        ({"identity_param": ["CERT_INFO"]}, "identity_param"),
        ({"person": {"cert_name": "张伟", "cert_no": "110101198803141118"}}, "cert_no"),
        ({"person": {"cert_name": "张伟", "cert_no": "11010119880314"}}, "cert_no"),
        ({"person": {"cert_name": "", "cert_no": "110101198803141119"}}, "cert_name"),
        ({"person": {"cert_no": "110101198803141119"}}, "cert_name"),
        ({"merchant_config": {"face_reserve_strategy": "never"}}, "return_url"),
        ({"merchant_config": {"return_url": "alipays://platformapi"}}, "return_url"),
        (
            {"merchant_config": {"return_url": RETURN_URL, "face_reserve_strategy": "sometimes"}},
            "face_reserve_strategy",
        ),
    ],
)
def test_invalid_business_parameters_are_illegal_argument_format(client, changes, mentions):
    reply = client.call(INITIALIZE, request_biz(**changes))

    assert_refused(reply, "40004", "ILLEGAL_ARGUMENT_FORMAT")
    assert mentions in reply.inner["sub_msg"]
    assert client.verifies(reply)


@pytest.mark.parametrize("field", ["identity_type", "cert_type"])
def test_identity_types_other_than_a_resident_id_card_are_refused(client, field):
    person = {**ZHANG_WEI, field: "PASSPORT"}

    reply = client.call(INITIALIZE, request_biz(person=person))

    assert_refused(reply, "40004", "ILLEGAL_ARGUMENT_FORMAT")
    assert field in reply.inner["sub_msg"]


def test_a_nested_parameter_that_is_not_json_is_the_platforms_unknown_error(client):
    reply = client.call(INITIALIZE, request_biz(identity_param='{"identity_type":"CERT_INFO"'))

    assert_refused(reply, "40004", "unknown-sub-code")
    assert reply.inner["sub_msg"] == "未知的错误码UNKNOWN_ERROR"


def test_a_biz_content_that_is_not_json_is_an_invalid_argument(client, mock, app_key):
    params = client.signed_params(INITIALIZE)
    params.pop("sign")
    params["biz_content"] = "{not json"
    reply_body = client.get(signing.sign_request(params, app_key)).text

    inner = json.loads(reply_body)[signing.response_key(INITIALIZE)]
    assert (inner["code"], inner["sub_code"]) == ("40002", "isv.invalid-parameter")


def test_a_return_url_outside_the_apps_registered_callbacks_is_refused(client, mock, app_key):
    mock.register_app(TEST_APP_ID, signing.public_key_pem(app_key), redirect_uris=[RETURN_URL])
    initialize(client)

    reply = client.call(
        INITIALIZE,
        request_biz(
            outer_order_no="idv_0002", merchant_config={"return_url": "https://evil.example/"}
        ),
    )

    assert_refused(reply, "40004", "ILLEGAL_ARGUMENT_FORMAT")
    assert "return_url" in reply.inner["sub_msg"]


def test_a_new_certification_queries_as_not_passed_without_a_reason(client):
    certify_id = initialize(client)

    inner = query(client, certify_id)

    assert inner["code"] == "10000" and "sub_code" not in inner
    assert inner["passed"] == "F"
    assert "fail_reason" not in inner
    assert json.loads(inner["identity_info"]) == {}
    assert json.loads(inner["material_info"]) == {}


def test_completing_as_passed_queries_as_t(client, mock):
    certify_id = initialize(client)

    response = complete(mock, certify_id, passed=True)

    assert response.status_code == 200, response.text
    assert response.json()["state"] == "PASSED"
    inner = query(client, certify_id)
    assert inner["passed"] == "T"
    assert "fail_reason" not in inner


def test_completing_as_failed_queries_as_f_with_the_reason(client, mock):
    certify_id = initialize(client)

    response = complete(
        mock, certify_id, passed=False, fail_reason="活体检测未通过（LIVENESS_FAILED）"
    )

    assert response.status_code == 200, response.text
    inner = query(client, certify_id)
    assert (inner["passed"], inner["fail_reason"]) == ("F", "活体检测未通过（LIVENESS_FAILED）")


def test_completing_as_failed_without_a_reason_gives_the_face_mismatch_reason(client, mock):
    certify_id = initialize(client)

    complete(mock, certify_id, passed=False)

    assert query(client, certify_id)["fail_reason"] == "人脸比对不一致（FACE_NOT_MATCH）"


def test_the_control_api_can_force_a_mismatching_identity_to_pass(client, mock):
    certify_id = initialize(client, person={"cert_name": "李四", "cert_no": "110101198803141119"})
    assert mock.control.get(f"/_mock/certifications/{certify_id}").json()["user_id"] is None

    assert complete(mock, certify_id, passed=True).status_code == 200

    assert query(client, certify_id)["passed"] == "T"


def test_a_certification_finishes_once(client, mock):
    certify_id = initialize(client)
    complete(mock, certify_id, passed=False)

    again = complete(mock, certify_id, passed=True)

    assert again.status_code == 409
    assert again.json()["error"] == "certification_finished"
    assert query(client, certify_id)["passed"] == "F"


def test_racing_completions_leave_exactly_one_outcome(client, mock):
    certify_id = initialize(client)
    outcomes = [True, False] * 4

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda p: complete(mock, certify_id, passed=p), outcomes))

    winners = [r for r in statuses if r.status_code == 200]
    assert len(winners) == 1
    assert sorted(r.status_code for r in statuses) == [200] + [409] * 7
    expected = "T" if winners[0].json()["passed"] else "F"
    assert query(client, certify_id)["passed"] == expected


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "invalid_passed"),
        ({"passed": "yes"}, "invalid_passed"),
        ({"passed": True, "fail_reason": "no"}, "invalid_fail_reason"),
        ({"passed": False, "fail_reason": ""}, "invalid_fail_reason"),
        ({"passed": False, "fail_reason": 7}, "invalid_fail_reason"),
    ],
)
def test_the_control_api_refuses_a_malformed_completion(client, mock, body, error):
    certify_id = initialize(client)

    response = complete(mock, certify_id, **body)

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert query(client, certify_id)["passed"] == "F"


def test_the_control_api_answers_404_for_an_unknown_certification(mock):
    shown = mock.control.get("/_mock/certifications/" + "0" * 32)
    completed = complete(mock, "0" * 32, passed=True)

    assert (shown.status_code, shown.json()["error"]) == (404, "certification_not_found")
    assert (completed.status_code, completed.json()["error"]) == (404, "certification_not_found")


def test_reserving_the_face_leaves_a_marker_and_never_leaves_none(client, mock):
    kept = initialize(
        client,
        outer_order_no="idv_keep",
        merchant_config={"return_url": RETURN_URL, "face_reserve_strategy": "reserve"},
    )
    never = initialize(client, outer_order_no="idv_never")
    for certify_id in (kept, never):
        complete(mock, certify_id, passed=True)

    assert json.loads(query(client, kept)["material_info"]) == {"face_reserved": "T"}
    assert json.loads(query(client, never)["material_info"]) == {}


def test_the_default_face_reserve_strategy_is_reserve(client, mock):
    certify_id = initialize(
        client, merchant_config={"return_url": RETURN_URL}, outer_order_no="idv_default"
    )

    state = mock.control.get(f"/_mock/certifications/{certify_id}").json()

    assert state["face_reserve_strategy"] == "reserve"


def test_an_unknown_certify_id_is_open_certify_bill_not_exist(client):
    reply = client.call(QUERY, {"certify_id": "0" * 32})

    assert_refused(reply, "40004", "OPEN_CERTIFY_BILL_NOT_EXIST", key=QUERY)
    assert reply.inner["sub_msg"] == "无效的certify_id"
    assert client.verifies(reply)


def test_another_apps_certify_id_is_unknown_to_this_app(client, mock, app_key):
    mock.register_app(OTHER_APP_ID, signing.public_key_pem(app_key))
    other = mock.app_client(OTHER_APP_ID, app_key)
    try:
        certify_id = initialize(other)
    finally:
        other.close()

    reply = client.call(QUERY, {"certify_id": certify_id})

    assert_refused(reply, "40004", "OPEN_CERTIFY_BILL_NOT_EXIST", key=QUERY)


def test_a_query_without_a_certify_id_is_illegal_argument_format(client):
    reply = client.call(QUERY, {})

    assert_refused(reply, "40004", "ILLEGAL_ARGUMENT_FORMAT", key=QUERY)


@pytest.mark.parametrize("method", [INITIALIZE, QUERY])
def test_an_injected_error_fault_answers_the_certify_methods_instead(client, mock, method):
    certify_id = initialize(client, outer_order_no="idv_before")
    mock.add_fault(method=method, kind="error", code="20000", times=1)
    biz = (
        request_biz(outer_order_no="idv_fault")
        if method == INITIALIZE
        else {"certify_id": certify_id}
    )

    faulted = client.call(method, biz)
    recovered = client.call(method, biz)

    assert (faulted.inner["code"], faulted.inner["sub_code"]) == ("20000", "isp.unknow-error")
    assert client.verifies(faulted)
    assert recovered.inner["code"] == "10000"


def test_an_injected_bad_signature_fault_applies_to_the_query(client, mock):
    certify_id = initialize(client)
    mock.add_fault(method=QUERY, kind="bad_signature", times=1)

    reply = client.call(QUERY, {"certify_id": certify_id})

    assert reply.inner["code"] == "10000"
    assert not client.verifies(reply)
    assert client.verifies(client.call(QUERY, {"certify_id": certify_id}))


def test_a_fault_on_the_certify_page_method_is_accepted_and_shown_on_the_page(client, mock):
    certify_id = initialize(client)
    mock.add_fault(method=CERTIFY, kind="error", code="40004", sub_code="isv.mock-fault", times=1)

    faulted = client.get(client.signed_params(CERTIFY, {"certify_id": certify_id}))
    recovered = client.get(client.signed_params(CERTIFY, {"certify_id": certify_id}))

    assert faulted.status_code == 400
    assert "isv.mock-fault" in faulted.text
    assert recovered.status_code == 200
    assert 'data-testid="name">*伟<' in recovered.text


def test_the_signed_certify_url_serves_the_face_scan_page(client, mock):
    certify_id = initialize(client)

    response = client.get(client.signed_params(CERTIFY, {"certify_id": certify_id}))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "礼物小程序" in response.text
    assert 'data-testid="name">*伟<' in response.text
    assert "张伟" not in response.text
    assert ZHANG_WEI["cert_no"] not in response.text
    calls = mock.control.get("/_mock/calls", params={"method": CERTIFY}).json()["calls"]
    assert [call["code"] for call in calls] == ["10000"]


def test_a_certify_url_with_a_bad_signature_shows_the_error_page(client, mock):
    certify_id = initialize(client)
    params = client.signed_params(CERTIFY, {"certify_id": certify_id})
    params["biz_content"] = json.dumps({"certify_id": "f" * 32})

    response = client.get(params)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "isv.invalid-signature" in response.text
    assert 'name="nonce"' not in response.text
    calls = mock.control.get("/_mock/calls", params={"method": CERTIFY}).json()["calls"]
    assert [call["sub_code"] for call in calls] == ["isv.invalid-signature"]


def test_a_certify_url_for_an_unknown_certify_id_shows_the_error_page(client):
    response = client.get(client.signed_params(CERTIFY, {"certify_id": "0" * 32}))

    assert response.status_code == 400
    assert "OPEN_CERTIFY_BILL_NOT_EXIST" in response.text
    assert 'name="nonce"' not in response.text


def test_an_expired_certify_id_no_longer_opens_the_page_but_still_queries(client, mock):
    mock.settings(certify_ttl=0)
    certify_id = initialize(client)

    response = client.get(client.signed_params(CERTIFY, {"certify_id": certify_id}))

    assert response.status_code == 410
    assert "expired" in response.text
    assert query(client, certify_id)["passed"] == "F"


def test_the_scan_button_follows_the_demo_users_face_outcome(client, mock):
    certify_id = initialize(client, person=HU_BIN)
    page = client.get(client.signed_params(CERTIFY, {"certify_id": certify_id})).text
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)

    response = client.http.post(
        "/certify", data={"certify_id": certify_id, "nonce": nonce, "decision": "scan"}
    )

    assert (response.status_code, response.headers["location"]) == (302, RETURN_URL)
    inner = query(client, certify_id)
    assert (inner["passed"], inner["fail_reason"]) == ("F", "人脸比对不一致（FACE_NOT_MATCH）")


def test_a_page_form_cannot_be_replayed_or_forged(client, mock):
    certify_id = initialize(client)
    page = client.get(client.signed_params(CERTIFY, {"certify_id": certify_id})).text
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)
    form = {"certify_id": certify_id, "nonce": nonce, "decision": "cancel"}

    first = client.http.post("/certify", data=form)
    replayed = client.http.post("/certify", data={**form, "decision": "scan"})
    forged = client.http.post("/certify", data={**form, "nonce": "x" * 32, "decision": "scan"})

    assert first.status_code == 302
    assert replayed.status_code == 400 and "stale or reused form" in replayed.text
    assert forged.status_code == 400
    assert query(client, certify_id)["passed"] == "F"
    assert "fail_reason" not in query(client, certify_id)
