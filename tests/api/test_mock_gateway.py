"""The mock gateway over real HTTP: protocol rules, both grants, profiles, faults, control API."""

from __future__ import annotations

import base64
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from service.gateway import signing
from service.mock_idp import create_mock_app
from tests.live_server import LiveServer
from tests.mock_idp_helpers import (
    DEMO_USER_ID,
    OTHER_APP_ID,
    TEST_APP_ID,
    all_strings,
    brace_counting_inner_text,
    gateway_timestamp,
    parse_body,
    parse_reply,
)

OAUTH = "alipay.system.oauth.token"
USER_INFO = "alipay.user.info.share"


@pytest.fixture(scope="module")
def other_app_key():
    return signing.generate_private_key()


@pytest.fixture
def mock(standalone_mock, app_key):
    return standalone_mock.reset_with_test_app(app_key)


@pytest.fixture
def client(mock, app_key):
    with mock.test_app_client(app_key) as app_client:
        yield app_client


def assert_signed_success(reply, client):
    assert reply.status == 200
    assert reply.inner["code"] == "10000"
    assert reply.inner["msg"] == "Success"
    assert "sub_code" not in reply.inner
    assert client.verifies(reply), reply.body


def assert_signed_error(reply, client, key, code, sub_code):
    assert reply.status == 200
    assert reply.key == key, reply.body
    assert (reply.inner["code"], reply.inner["sub_code"]) == (code, sub_code), reply.body
    assert reply.inner["msg"] and reply.inner["sub_msg"]
    assert client.verifies(reply), reply.body


def exchange_code(client, code, via="get"):
    return client.call(OAUTH, via=via, grant_type="authorization_code", code=code)


# Requests in every shape clients send


def test_a_get_with_every_parameter_in_the_query_gets_a_signed_token(mock, client):
    reply = exchange_code(client, mock.auth_code(TEST_APP_ID))

    assert_signed_success(reply, client)
    assert reply.key == "alipay_system_oauth_token_response"
    assert reply.inner["user_id"] == DEMO_USER_ID
    assert reply.inner["open_id"].startswith("0") and len(reply.inner["open_id"]) > 20
    assert isinstance(reply.inner["expires_in"], int)
    assert isinstance(reply.inner["re_expires_in"], int)
    assert reply.inner["access_token"] and reply.inner["refresh_token"]
    assert time.strptime(reply.inner["auth_start"], "%Y-%m-%d %H:%M:%S")
    assert reply.body.index('"sign":') > reply.body.index(reply.inner_text)


def test_a_post_with_parameters_split_between_query_and_form_gets_a_signed_token(mock, client):
    reply = exchange_code(client, mock.auth_code(TEST_APP_ID), via="post")

    assert_signed_success(reply, client)
    assert reply.inner["user_id"] == DEMO_USER_ID


def test_a_post_with_everything_in_the_query_and_an_empty_body_is_answered(mock, client):
    params = client.signed_params(
        OAUTH, grant_type="authorization_code", code=mock.auth_code(TEST_APP_ID)
    )
    response = client.http.post("/gateway.do", params=params, content=b"")

    assert_signed_success(parse_reply(response, OAUTH), client)


def test_an_absolute_form_request_target_is_accepted(mock, client):
    params = client.signed_params(
        OAUTH, grant_type="authorization_code", code=mock.auth_code(TEST_APP_ID)
    )
    body_keys = ("grant_type", "code")
    query = urlencode({k: v for k, v in params.items() if k not in body_keys})
    body = urlencode({k: params[k] for k in body_keys}).encode()
    host, port = mock.live.host, mock.live.port
    request = (
        f"POST http://{host}:{port}/gateway.do?{query} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request)
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, payload = raw.partition(b"\r\n\r\n")

    assert head.startswith(b"HTTP/1.1 200")
    assert b"application/json;charset=utf-8" in head.lower()
    assert_signed_success(parse_body(payload.decode("utf-8"), OAUTH), client)


# alipay.system.oauth.token


def test_an_auth_code_can_be_exchanged_only_once(mock, client):
    code = mock.auth_code(TEST_APP_ID)
    assert exchange_code(client, code).succeeded

    again = exchange_code(client, code)

    assert_signed_error(again, client, "error_response", "40002", "isv.code-invalid")


def test_concurrent_exchanges_of_one_code_succeed_exactly_once(mock, client):
    code = mock.auth_code(TEST_APP_ID)
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda _: exchange_code(client, code), range(8)))

    assert sorted(reply.inner["code"] for reply in replies) == ["10000"] + ["40002"] * 7


def test_an_auth_code_issued_to_another_app_is_rejected(mock, client, other_app_key):
    mock.register_app(OTHER_APP_ID, signing.public_key_pem(other_app_key))
    code = mock.auth_code(OTHER_APP_ID)

    reply = exchange_code(client, code)

    assert_signed_error(reply, client, "error_response", "40002", "isv.code-invalid")


def test_an_expired_auth_code_is_rejected(mock, client):
    mock.settings(auth_code_ttl=0)
    reply = exchange_code(client, mock.auth_code(TEST_APP_ID))

    assert_signed_error(reply, client, "error_response", "40002", "isv.code-invalid")


def test_an_unknown_auth_code_is_rejected(mock, client):
    reply = exchange_code(client, "0123456789abcdef0123456789abcdef")

    assert_signed_error(reply, client, "error_response", "40002", "isv.code-invalid")


def test_a_refresh_token_gives_a_new_pair_once(mock, client):
    first = exchange_code(client, mock.auth_code(TEST_APP_ID)).inner

    refreshed = client.call(OAUTH, grant_type="refresh_token", refresh_token=first["refresh_token"])
    reused = client.call(OAUTH, grant_type="refresh_token", refresh_token=first["refresh_token"])

    assert_signed_success(refreshed, client)
    assert refreshed.inner["user_id"] == DEMO_USER_ID
    assert refreshed.inner["access_token"] != first["access_token"]
    assert refreshed.inner["refresh_token"] != first["refresh_token"]
    assert_signed_error(reused, client, "error_response", "40002", "isv.refreshed-token-invalid")
    again = client.call(
        OAUTH, grant_type="refresh_token", refresh_token=refreshed.inner["refresh_token"]
    )
    assert again.succeeded


def test_an_unknown_refresh_token_is_rejected(mock, client):
    reply = client.call(OAUTH, grant_type="refresh_token", refresh_token="authusrBnothing")

    assert_signed_error(reply, client, "error_response", "40002", "isv.refresh-token-invalid")


def test_a_refresh_token_of_another_app_is_rejected(mock, client, other_app_key):
    mock.register_app(OTHER_APP_ID, signing.public_key_pem(other_app_key))
    other = mock.app_client(OTHER_APP_ID, other_app_key)
    tokens = exchange_code(other, mock.auth_code(OTHER_APP_ID)).inner

    reply = client.call(OAUTH, grant_type="refresh_token", refresh_token=tokens["refresh_token"])

    assert_signed_error(reply, client, "error_response", "40002", "isv.refresh-token-invalid")
    other.close()


def test_an_expired_refresh_token_is_rejected(mock, client):
    mock.settings(refresh_token_ttl=0)
    tokens = exchange_code(client, mock.auth_code(TEST_APP_ID)).inner

    reply = client.call(OAUTH, grant_type="refresh_token", refresh_token=tokens["refresh_token"])

    assert_signed_error(reply, client, "error_response", "40002", "isv.refresh-token-time-out")


@pytest.mark.parametrize("grant_type", [None, "client_credentials"])
def test_a_missing_or_unknown_grant_type_is_rejected(mock, client, grant_type):
    reply = client.call(OAUTH, grant_type=grant_type, code=mock.auth_code(TEST_APP_ID))

    assert_signed_error(reply, client, "error_response", "40002", "isv.grant-type-invalid")


@pytest.mark.parametrize(
    ("id_mode", "present", "absent"),
    [("user_id", "user_id", "open_id"), ("open_id", "open_id", "user_id")],
)
def test_the_apps_id_mode_decides_which_user_ids_are_revealed(
    mock, client, app_key, id_mode, present, absent
):
    mock.register_app(TEST_APP_ID, signing.public_key_pem(app_key), id_mode=id_mode)

    token = exchange_code(client, mock.auth_code(TEST_APP_ID)).inner
    profile = client.call(USER_INFO, auth_token=token["access_token"]).inner

    assert present in token and absent not in token
    assert present in profile and absent not in profile


def test_open_ids_are_stable_for_one_app_and_differ_between_apps(mock, client, other_app_key):
    mock.register_app(OTHER_APP_ID, signing.public_key_pem(other_app_key))
    other = mock.app_client(OTHER_APP_ID, other_app_key)

    first = exchange_code(client, mock.auth_code(TEST_APP_ID)).inner["open_id"]
    second = exchange_code(client, mock.auth_code(TEST_APP_ID)).inner["open_id"]
    elsewhere = exchange_code(other, mock.auth_code(OTHER_APP_ID)).inner["open_id"]

    assert first == second != elsewhere
    assert DEMO_USER_ID not in first
    other.close()


# alipay.user.info.share


def user_token(mock, client, scopes=("auth_user",), user_id=DEMO_USER_ID):
    reply = exchange_code(client, mock.auth_code(TEST_APP_ID, user_id, scopes))
    assert reply.succeeded, reply.body
    return reply.inner["access_token"]


def test_an_ordinary_app_reads_only_the_minimal_profile(mock, client):
    reply = client.call(USER_INFO, auth_token=user_token(mock, client))

    assert_signed_success(reply, client)
    assert reply.key == "alipay_user_info_share_response"
    assert set(reply.inner) == {"code", "msg", "user_id", "open_id", "avatar", "nick_name"}
    assert reply.inner["nick_name"] == "阿伟"
    assert reply.inner["avatar"] == f"{mock.url}/avatars/{DEMO_USER_ID}.svg"
    avatar = httpx.get(reply.inner["avatar"])
    assert avatar.status_code == 200 and avatar.text.startswith("<svg")


def test_a_privileged_app_reads_the_full_profile(mock, client, app_key):
    mock.register_app(TEST_APP_ID, signing.public_key_pem(app_key), privileged=True)

    reply = client.call(USER_INFO, auth_token=user_token(mock, client), via="post")

    assert_signed_success(reply, client)
    expected = {
        "user_name": "张伟",
        "cert_no": "110101198803141119",
        "cert_type": "0",
        "gender": "M",
        "province": "北京市",
        "city": "北京市",
        "mobile": "13810245671",
        "is_certified": "T",
        "user_type": "2",
        "user_status": "T",
    }
    assert {key: reply.inner.get(key) for key in expected} == expected


def test_an_auth_base_token_may_not_read_the_profile(mock, client):
    reply = client.call(USER_INFO, auth_token=user_token(mock, client, scopes=("auth_base",)))

    assert_signed_error(
        reply, client, "error_response", "40006", "isv.insufficient-user-permissions"
    )


def test_an_unknown_auth_token_is_refused(mock, client):
    reply = client.call(USER_INFO, auth_token="authusrBnothing")

    assert_signed_error(
        reply, client, "alipay_user_info_share_response", "20001", "aop.invalid-auth-token"
    )


def test_an_expired_auth_token_is_refused(mock, client):
    mock.settings(access_token_ttl=0)

    reply = client.call(USER_INFO, auth_token=user_token(mock, client))

    assert_signed_error(
        reply, client, "alipay_user_info_share_response", "20001", "aop.auth-token-time-out"
    )


def test_an_auth_token_of_another_app_is_refused(mock, client, other_app_key):
    mock.register_app(OTHER_APP_ID, signing.public_key_pem(other_app_key))
    other = mock.app_client(OTHER_APP_ID, other_app_key)
    token = exchange_code(other, mock.auth_code(OTHER_APP_ID)).inner["access_token"]

    reply = client.call(USER_INFO, auth_token=token)

    assert reply.inner["sub_code"] == "aop.invalid-auth-token"
    other.close()


@pytest.mark.parametrize("biz_content", [None, "", "{}", '{"unused":{"nested":"{}"}}'])
def test_absent_empty_or_empty_object_biz_content_means_no_business_parameters(
    mock, client, biz_content
):
    token = user_token(mock, client)
    params = client.common(USER_INFO, auth_token=token)
    if biz_content is not None:
        params["biz_content"] = biz_content
    params = signing.sign_request(params, client.private_key)
    if biz_content == "":
        params["biz_content"] = ""  # sent but empty, which the signature leaves out

    assert_signed_success(parse_reply(client.get(params), USER_INFO), client)


def test_biz_content_that_is_not_a_json_object_is_refused(mock, client):
    reply = client.call(USER_INFO, biz_content="[1, 2]", auth_token=user_token(mock, client))

    assert_signed_error(
        reply, client, "alipay_user_info_share_response", "40002", "isv.invalid-parameter"
    )


# The common parameters and the signature


@pytest.mark.parametrize(
    ("missing", "sub_code"),
    [
        ("method", "isv.missing-method"),
        ("sign", "isv.missing-signature"),
        ("timestamp", "isv.missing-timestamp"),
        ("version", "isv.missing-version"),
    ],
)
def test_a_missing_common_parameter_answers_40001(mock, client, missing, sub_code):
    params = client.signed_params(USER_INFO, auth_token="x")
    params.pop(missing)

    reply = parse_reply(client.get(params), USER_INFO)

    key = "error_response" if missing == "method" else "alipay_user_info_share_response"
    assert_signed_error(reply, client, key, "40001", sub_code)


def test_a_missing_app_id_answers_40001_unsigned(mock, client):
    params = client.signed_params(USER_INFO, auth_token="x")
    params.pop("app_id")

    reply = parse_reply(client.get(params), USER_INFO)

    assert (reply.inner["code"], reply.inner["sub_code"]) == ("40001", "isv.missing-app-id")
    assert reply.signature is None


@pytest.mark.parametrize(
    ("override", "sub_code"),
    [
        ({"timestamp": "2026/11/25 00:37:30"}, "isv.invalid-timestamp"),
        ({"timestamp": "2026-13-45 00:37:30"}, "isv.invalid-timestamp"),
        ({"charset": "GBK"}, "isv.invalid-charset"),
        ({"sign_type": "HMAC-SHA256"}, "isv.invalid-signature-type"),
    ],
)
def test_malformed_common_parameters_answer_40002(mock, client, override, sub_code):
    if "sign_type" in override:  # signed with a real algorithm, then relabelled
        params = {**client.signed_params(USER_INFO, auth_token="x"), **override}
    else:
        params = client.signed_params(USER_INFO, auth_token="x", **override)

    reply = parse_reply(client.get(params), USER_INFO)

    assert_signed_error(reply, client, "alipay_user_info_share_response", "40002", sub_code)


def test_an_old_timestamp_is_accepted_unless_a_skew_limit_is_configured(mock, client):
    token = user_token(mock, client)
    an_hour_ago = gateway_timestamp(-3600)
    assert client.call(USER_INFO, auth_token=token, timestamp=an_hour_ago).succeeded

    mock.settings(timestamp_skew_seconds=300)
    reply = client.call(USER_INFO, auth_token=token, timestamp=an_hour_ago)

    assert reply.inner["sub_code"] == "isv.invalid-timestamp"


def test_legacy_rsa_requests_are_accepted_and_answered_with_an_rsa_signature(mock, client):
    code = mock.auth_code(TEST_APP_ID)

    reply = client.call(OAUTH, sign_type="RSA", grant_type="authorization_code", code=code)

    assert reply.inner["code"] == "10000" and "sub_code" not in reply.inner
    assert client.verifies(reply, "RSA")
    assert not client.verifies(reply, "RSA2")


def test_a_bad_signature_answers_invalid_signature_echoing_the_signed_string(mock, client):
    params = client.signed_params(OAUTH, grant_type="authorization_code", code="abc")
    params["code"] = "tampered"

    reply = parse_reply(client.get(params), OAUTH)

    assert_signed_error(reply, client, "error_response", "40002", "isv.invalid-signature")
    assert signing.request_signing_string(params) in reply.inner["sub_msg"]


def test_a_signature_over_empty_values_is_accepted(mock, client):
    token = user_token(mock, client)
    params = client.common(USER_INFO, auth_token=token, notify_url="")
    text = signing.request_signing_string(params, include_empty=True)
    params["sign"] = signing.sign(text, client.private_key)
    assert "notify_url=&" in text

    assert_signed_success(parse_reply(client.get(params), USER_INFO), client)


def test_an_unknown_app_gets_an_unsigned_answer(mock, app_key):
    stranger = mock.app_client("2021009999999999", app_key)

    reply = stranger.call(USER_INFO, auth_token="x")

    assert reply.status == 200
    assert (reply.inner["code"], reply.inner["sub_code"]) == ("40002", "isv.invalid-app-id")
    assert reply.signature is None and '"sign"' not in reply.body
    stranger.close()


def test_an_unknown_method_answers_under_error_response_signed(mock, client):
    reply = client.call("alipay.nothing.here.query", {"a": 1})

    assert_signed_error(reply, client, "error_response", "40002", "isv.invalid-method")


def test_no_string_in_any_response_holds_unbalanced_braces(mock, client):
    params = client.signed_params(USER_INFO, {"note": "}{ {{"}, auth_token="x")
    params["auth_token"] = "tampered"

    response = client.get(params)
    reply = parse_reply(response, USER_INFO)

    assert reply.inner["sub_code"] == "isv.invalid-signature"
    for text in all_strings(reply.inner):
        depth = 0
        for character in text:
            depth += {"{": 1, "}": -1}.get(character, 0)
            assert depth >= 0, text
        assert depth == 0, text
    assert brace_counting_inner_text(response.text, reply.key) == reply.inner_text
    assert client.verifies(reply)


def test_every_answer_is_http_200_with_the_gateways_content_type(mock, client):
    responses = [
        client.http.get("/gateway.do"),
        client.http.post("/gateway.do", data={"method": OAUTH}),
        client.get(client.signed_params(OAUTH, grant_type="authorization_code", code="x")),
    ]

    for response in responses:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json;charset=utf-8"
        assert json.loads(response.text)


# App keys


def _public_key_forms(private_key):
    public = private_key.public_key()
    pkcs1 = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    ).decode()
    return {
        "spki_pem": signing.public_key_pem(public),
        "pkcs1_pem": pkcs1,
        "bare_base64": signing.public_key_base64(public),
    }


@pytest.mark.parametrize("form", ["spki_pem", "pkcs1_pem", "bare_base64"])
def test_app_public_keys_are_accepted_as_pem_pkcs1_or_bare_base64(mock, client, app_key, form):
    mock.register_app(TEST_APP_ID, _public_key_forms(app_key)[form])

    assert_signed_success(exchange_code(client, mock.auth_code(TEST_APP_ID)), client)


@pytest.mark.parametrize(
    "bad_key",
    ["", "not a key", base64.b64encode(b"garbage bytes").decode(), "PRIVATE"],
)
def test_a_bad_app_key_is_refused_with_a_json_error(mock, app_key, bad_key):
    if bad_key == "PRIVATE":
        bad_key = signing.private_key_pem(app_key)

    response = mock.control.post(
        "/_mock/apps", json={"app_id": "2021000000000009", "public_key": bad_key}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_public_key" and response.json()["detail"]


def test_registering_an_app_twice_updates_it(mock, app_key):
    first = mock.control.post(
        "/_mock/apps",
        json={"app_id": "2021000000000003", "public_key": signing.public_key_pem(app_key)},
    )
    second = mock.control.post(
        "/_mock/apps",
        json={
            "app_id": "2021000000000003",
            "public_key": signing.public_key_pem(app_key),
            "privileged": True,
        },
    )

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["privileged"] is True
    assert mock.control.get("/_mock/apps/2021000000000003").json()["privileged"] is True


# Faults


def test_an_error_fault_answers_its_code_for_the_given_number_of_calls(mock, client):
    token = user_token(mock, client)
    mock.add_fault(method=USER_INFO, kind="error", times=2)

    first, second, third = (client.call(USER_INFO, auth_token=token) for _ in range(3))

    for reply in (first, second):
        assert_signed_error(
            reply, client, "alipay_user_info_share_response", "20000", "isp.unknow-error"
        )
    assert_signed_success(third, client)
    assert mock.control.get("/_mock/faults").json() == {"faults": []}


def test_an_error_fault_with_a_business_code_is_answered_as_given(mock, client):
    mock.add_fault(
        method=OAUTH, kind="error", code="40004", sub_code="ACQ.SYSTEM_ERROR", sub_msg="busy {"
    )

    reply = exchange_code(client, mock.auth_code(TEST_APP_ID))

    assert_signed_error(reply, client, "error_response", "40004", "ACQ.SYSTEM_ERROR")
    assert "{" not in reply.inner["sub_msg"]


def test_a_latency_fault_delays_the_answer_and_then_answers_normally(mock, client):
    mock.add_fault(method=OAUTH, kind="latency", seconds=0.6, times=1)

    started = time.monotonic()
    slow = exchange_code(client, mock.auth_code(TEST_APP_ID))
    slow_seconds = time.monotonic() - started
    started = time.monotonic()
    fast = exchange_code(client, mock.auth_code(TEST_APP_ID))
    fast_seconds = time.monotonic() - started

    assert_signed_success(slow, client)
    assert_signed_success(fast, client)
    assert slow_seconds >= 0.6 > fast_seconds


def test_a_bad_signature_fault_answers_a_signature_that_does_not_verify(mock, client):
    mock.add_fault(method=OAUTH, kind="bad_signature", times=1)

    corrupted = exchange_code(client, mock.auth_code(TEST_APP_ID))
    clean = exchange_code(client, mock.auth_code(TEST_APP_ID))

    assert corrupted.inner["code"] == "10000" and corrupted.signature
    assert not client.verifies(corrupted)
    assert_signed_success(clean, client)


def test_an_unsigned_fault_drops_the_signature_until_cleared(mock, client):
    mock.add_fault(method="*", kind="unsigned")

    first = exchange_code(client, mock.auth_code(TEST_APP_ID))
    second = exchange_code(client, mock.auth_code(TEST_APP_ID))
    cleared = mock.control.delete("/_mock/faults")
    third = exchange_code(client, mock.auth_code(TEST_APP_ID))

    assert first.signature is None and second.signature is None
    assert '"sign"' not in first.body
    assert cleared.json() == {"cleared": 1}
    assert_signed_success(third, client)


@pytest.mark.parametrize(
    "fault",
    [
        {"method": "alipay.no.such.method", "kind": "error"},
        {"method": OAUTH, "kind": "explode"},
        {"method": OAUTH, "kind": "error", "times": 0},
        {"method": OAUTH, "kind": "latency", "seconds": -1},
        {"method": OAUTH, "kind": "error", "code": "abc"},
    ],
)
def test_an_invalid_fault_is_refused(mock, fault):
    response = mock.control.post("/_mock/faults", json=fault)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_fault"


# Control API


def test_gateway_calls_are_logged_with_their_result(mock, client):
    exchange_code(client, mock.auth_code(TEST_APP_ID))
    exchange_code(client, "unknown")

    calls = mock.control.get("/_mock/calls", params={"method": OAUTH}).json()["calls"]

    assert [(c["method"], c["app_id"], c["code"]) for c in calls] == [
        (OAUTH, TEST_APP_ID, "10000"),
        (OAUTH, TEST_APP_ID, "40002"),
    ]
    assert calls[1]["sub_code"] == "isv.code-invalid"
    assert datetime.fromisoformat(calls[0]["at"]).utcoffset() == timedelta(0)


def test_reset_forgets_apps_codes_faults_and_calls_and_reseeds_users(mock, client):
    code = mock.auth_code(TEST_APP_ID)
    mock.add_fault(method=OAUTH, kind="error")
    mock.control.post("/_mock/users", json={"user_name": "临时用户"})
    exchange_code(client, "x")

    mock.reset()

    assert mock.control.get("/_mock/apps").json() == {"apps": []}
    assert mock.control.get("/_mock/faults").json() == {"faults": []}
    assert mock.control.get("/_mock/calls").json() == {"calls": []}
    users = mock.control.get("/_mock/users").json()["users"]
    assert len(users) >= 20 and all(u["user_name"] != "临时用户" for u in users)
    assert exchange_code(client, code).inner["sub_code"] == "isv.invalid-app-id"


def test_users_can_be_added_listed_and_shown(mock):
    created = mock.control.post(
        "/_mock/users",
        json={"user_name": "测试员", "cert_no": "11010519491231002X", "mobile": "13800000000"},
    )
    user = created.json()

    assert created.status_code == 201
    assert user["user_id"].startswith("2088") and len(user["user_id"]) == 16
    assert user["gender"] == "F" and user["face"] == {"outcome": "pass"}
    assert mock.control.get(f"/_mock/users/{user['user_id']}").json() == user
    assert user in mock.control.get("/_mock/users").json()["users"]
    duplicate = mock.control.post(
        "/_mock/users", json={"user_id": user["user_id"], "user_name": "又一个"}
    )
    assert duplicate.status_code == 409 and duplicate.json()["error"] == "user_exists"


@pytest.mark.parametrize(
    "profile",
    [
        {"user_name": "坏号码", "cert_no": "110105194912310021"},
        {"user_name": "坏用户号", "user_id": "2077000000000000"},
        {"user_name": "坏分数", "credit": {"zm_score": 1000}},
        {"user_name": "坏字段", "favourite_colour": "blue"},
        {},
    ],
)
def test_an_invalid_user_is_refused(mock, profile):
    response = mock.control.post("/_mock/users", json=profile)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_user" and response.json()["detail"]


def test_an_unknown_user_is_a_json_404(mock):
    response = mock.control.get("/_mock/users/2088000000000000")

    assert response.status_code == 404
    assert response.json()["error"] == "user_not_found"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            {"app_id": "2021009999999999", "user_id": DEMO_USER_ID, "scopes": ["auth_user"]},
            "unknown_app",
        ),
        (
            {"app_id": TEST_APP_ID, "user_id": "2088000000000000", "scopes": ["auth_user"]},
            "unknown_user",
        ),
        (
            {"app_id": TEST_APP_ID, "user_id": DEMO_USER_ID, "scopes": ["auth_everything"]},
            "invalid_scopes",
        ),
    ],
)
def test_auth_codes_are_refused_for_unknown_apps_users_and_scopes(mock, body, error):
    response = mock.control.post("/_mock/auth-codes", json=body)

    assert response.status_code == 400
    assert response.json()["error"] == error


def test_the_platform_key_is_published_as_pem_and_base64(mock):
    key = mock.control.get("/_mock/platform-key").json()

    assert key["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert (
        signing.public_key_pem(signing.load_public_key(key["public_key_base64"]))
        == key["public_key_pem"]
    )


def test_without_the_control_api_every_mock_route_is_a_404(tmp_path):
    with LiveServer(create_mock_app(tmp_path, control_api=False)) as live:
        responses = [
            httpx.get(f"{live.url}/_mock/platform-key"),
            httpx.post(f"{live.url}/_mock/reset"),
            httpx.post(f"{live.url}/_mock/apps", json={}),
        ]
        gateway = httpx.get(f"{live.url}/gateway.do")

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert responses[0].json()["error"] == "not_found"
    assert gateway.status_code == 200


def test_the_platform_key_is_kept_in_the_data_dir_and_reused(tmp_path):
    first = create_mock_app(tmp_path).test_client().get("/_mock/platform-key").json
    second = create_mock_app(tmp_path).test_client().get("/_mock/platform-key").json

    assert first == second
    assert signing.is_dev_key((tmp_path / "platform-key.pem").read_text())
    assert (tmp_path / "mock-idp.sqlite3").exists()


def test_a_given_platform_key_is_used(tmp_path, app_key):
    app = create_mock_app(tmp_path, platform_private_key=signing.private_key_pem(app_key))

    published = app.test_client().get("/_mock/platform-key").json

    assert published["public_key_pem"] == signing.public_key_pem(app_key)
    assert not (tmp_path / "platform-key.pem").exists()


def test_the_mock_starts_and_answers_within_a_second():
    started = time.perf_counter()
    app = create_mock_app()
    response = app.test_client().get("/_mock/users")
    elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert elapsed < 1.0, elapsed
    assert app.extensions["mock_idp"].get_user(DEMO_USER_ID)["user_name"] == "张伟"


def test_the_access_log_leaves_out_query_strings(mock, app_key, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="werkzeug"):
        mock.app_client(TEST_APP_ID, app_key).call(
            USER_INFO, auth_token="secret-token-value", via="get"
        )

    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/gateway.do" in line for line in lines)
    assert not any("secret-token-value" in line or "sign=" in line for line in lines)
