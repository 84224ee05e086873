"""The face-scan page in headless Chromium: a masked identity, scan or fail, back to the app."""

from __future__ import annotations

import httpx
import pytest
from flask import Flask, jsonify, request

from tests.live_server import LiveServer

INITIALIZE = "alipay.user.certify.open.initialize"
QUERY = "alipay.user.certify.open.query"
CERTIFY = "alipay.user.certify.open.certify"
ZHANG_WEI = {"cert_name": "张伟", "cert_no": "110101198803141119"}
OUYANG = {"cert_name": "欧阳晓雪", "cert_no": "430104199106128101"}


@pytest.fixture(scope="module")
def shop():
    """The merchant's page the face scan returns to."""
    app = Flask("shop")

    @app.get("/verified")
    def verified():
        return jsonify(received=request.args.to_dict())

    with LiveServer(app) as live:
        yield live


@pytest.fixture
def mock(standalone_mock, app_key, shop, key_mode):
    return standalone_mock.reset_with_test_app(
        app_key, name="礼物小程序", redirect_uris=[shop.url + "/"], key_mode=key_mode
    )


@pytest.fixture
def client(mock, app_key):
    with mock.test_app_client(app_key) as app_client:
        yield app_client


def initialize(client, shop, person=ZHANG_WEI) -> str:
    biz = {
        "outer_order_no": "idv_page_0001",
        "biz_code": "FACE",
        "identity_param": {"identity_type": "CERT_INFO", "cert_type": "IDENTITY_CARD", **person},
        "merchant_config": {"return_url": shop.url + "/verified?order=7"},
    }
    reply = client.call(INITIALIZE, biz)
    assert reply.inner["code"] == "10000", reply.body
    return reply.inner["certify_id"]


def certify_url(mock, client, certify_id: str) -> str:
    """The signed gateway.do URL a merchant hands to the browser."""
    params = client.signed_params(CERTIFY, {"certify_id": certify_id})
    return f"{mock.url}/gateway.do?{httpx.QueryParams(params)}"


def query(client, certify_id: str) -> dict:
    reply = client.call(QUERY, {"certify_id": certify_id})
    assert client.verifies(reply), reply.body
    return reply.inner


def assert_back_at_the_shop(page, shop) -> None:
    page.wait_for_url(shop.url + "/verified?order=7")
    assert '"order":"7"' in page.content().replace(" ", "")


def test_scanning_shows_only_the_masked_identity_then_passes_and_returns(page, mock, client, shop):
    certify_id = initialize(client, shop)
    page.goto(certify_url(mock, client, certify_id))

    assert page.get_by_test_id("merchant").inner_text() == "礼物小程序"
    assert page.get_by_test_id("name").inner_text() == "*伟"
    assert page.get_by_test_id("cert-no").inner_text() == "110***********1119"
    assert "张伟" not in page.content()
    assert ZHANG_WEI["cert_no"] not in page.content()
    assert "通过 Pass" in page.get_by_test_id("expected").inner_text()
    assert query(client, certify_id)["passed"] == "F"

    page.get_by_role("button", name="开始刷脸 Scan face").click()

    assert_back_at_the_shop(page, shop)
    inner = query(client, certify_id)
    assert inner["passed"] == "T"
    assert "fail_reason" not in inner


def test_a_longer_name_shows_only_its_last_character(page, mock, client, shop):
    certify_id = initialize(client, shop, person=OUYANG)
    page.goto(certify_url(mock, client, certify_id))

    assert page.get_by_test_id("name").inner_text() == "***雪"
    assert "欧阳" not in page.content()


def test_failing_on_purpose_records_the_chosen_reason(page, mock, client, shop):
    certify_id = initialize(client, shop)
    page.goto(certify_url(mock, client, certify_id))

    page.get_by_text("模拟失败 Fail on purpose").click()
    page.get_by_label("失败原因").select_option("活体检测未通过（LIVENESS_FAILED）")
    page.get_by_role("button", name="认证失败 Fail").click()

    assert_back_at_the_shop(page, shop)
    inner = query(client, certify_id)
    assert (inner["passed"], inner["fail_reason"]) == ("F", "活体检测未通过（LIVENESS_FAILED）")


def test_a_name_that_does_not_match_the_id_number_fails_even_when_scanned(page, mock, client, shop):
    certify_id = initialize(client, shop, person={**ZHANG_WEI, "cert_name": "张三"})
    page.goto(certify_url(mock, client, certify_id))
    assert "IDENTITY_NOT_MATCH" in page.get_by_test_id("expected").inner_text()

    page.get_by_role("button", name="开始刷脸 Scan face").click()

    assert_back_at_the_shop(page, shop)
    inner = query(client, certify_id)
    assert (inner["passed"], inner["fail_reason"]) == (
        "F",
        "姓名与身份证号不一致（IDENTITY_NOT_MATCH）",
    )


def test_an_id_number_no_user_holds_fails_even_when_scanned(page, mock, client, shop):
    stranger = {"cert_name": "张伟", "cert_no": "110101199001011237"}
    certify_id = initialize(client, shop, person=stranger)
    page.goto(certify_url(mock, client, certify_id))

    page.get_by_role("button", name="开始刷脸 Scan face").click()

    assert_back_at_the_shop(page, shop)
    assert query(client, certify_id)["fail_reason"] == "未查询到该身份信息（IDENTITY_NOT_FOUND）"


def test_a_demo_user_whose_face_fails_fails_with_the_reason_from_the_data_file(
    page, mock, client, shop
):
    certify_id = initialize(
        client, shop, person={"cert_name": "何雨桐", "cert_no": "450103200309185109"}
    )
    page.goto(certify_url(mock, client, certify_id))

    page.get_by_role("button", name="开始刷脸 Scan face").click()

    assert_back_at_the_shop(page, shop)
    assert query(client, certify_id)["fail_reason"] == "活体检测未通过（LIVENESS_FAILED）"


def test_cancelling_returns_without_finishing_and_reopening_still_offers_the_scan(
    page, mock, client, shop
):
    certify_id = initialize(client, shop)
    url = certify_url(mock, client, certify_id)
    page.goto(url)

    page.get_by_role("button", name="取消 Cancel").click()

    assert_back_at_the_shop(page, shop)
    inner = query(client, certify_id)
    assert inner["passed"] == "F" and "fail_reason" not in inner
    page.goto(url)
    assert page.get_by_role("button", name="开始刷脸 Scan face").is_visible()


def test_a_finished_certification_shows_its_result_and_no_buttons(page, mock, client, shop):
    certify_id = initialize(client, shop)
    url = certify_url(mock, client, certify_id)
    page.goto(url)
    page.get_by_role("button", name="开始刷脸 Scan face").click()
    assert_back_at_the_shop(page, shop)

    page.goto(url)

    assert "认证已通过" in page.get_by_test_id("result").inner_text()
    assert page.get_by_role("button").count() == 0


def test_a_tampered_certify_url_shows_the_error_page(page, mock, client, shop):
    certify_id = initialize(client, shop)
    url = certify_url(mock, client, certify_id).replace("sign=", "sign=AAAA", 1)

    response = page.goto(url)

    assert response.status == 400
    assert "isv.invalid-signature" in page.get_by_test_id("error-message").inner_text()
    assert page.get_by_role("button").count() == 0
