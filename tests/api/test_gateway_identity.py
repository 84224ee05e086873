"""The gateway client's face verification against the live mock: ids, retries, outcomes."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from service.components import gateway
from service.gateway import certification
from service.gateway.errors import GatewayRejected

ZHANG_WEI = {"cert_name": "张伟", "cert_no": "110101198803141119"}
RETURN_URL = "https://minifin.example/identity/return"


@pytest.fixture
def gw(app):
    with app.app_context():
        yield gateway()


def _start(gw, person=ZHANG_WEI, outer_order_no=None) -> tuple[str, str]:
    outer_order_no = outer_order_no or f"idv_{secrets.token_hex(8)}"
    certify_id = certification.initialize_certification(
        gw, outer_order_no=outer_order_no, return_url=RETURN_URL, **person
    )
    return outer_order_no, certify_id


def _complete(mock_idp, certify_id: str, **outcome) -> None:
    response = httpx.post(
        f"{mock_idp.url}/_mock/certifications/{certify_id}/complete", json=outcome
    )
    response.raise_for_status()


def _state(mock_idp, certify_id: str) -> dict:
    response = httpx.get(f"{mock_idp.url}/_mock/certifications/{certify_id}")
    response.raise_for_status()
    return response.json()


def test_initializing_returns_a_certify_id_and_never_keeps_the_face(gw, mock_idp):
    _outer, certify_id = _start(gw)

    state = _state(mock_idp, certify_id)
    assert len(certify_id) == 32 and int(certify_id, 16) >= 0
    assert (state["biz_code"], state["face_reserve_strategy"]) == ("FACE", "never")
    assert (state["cert_name"], state["cert_no"]) == (ZHANG_WEI["cert_name"], ZHANG_WEI["cert_no"])
    assert state["return_url"] == RETURN_URL


def test_initializing_again_with_the_same_outer_order_no_returns_the_same_id(gw):
    outer_order_no, certify_id = _start(gw)

    assert _start(gw, outer_order_no=outer_order_no) == (outer_order_no, certify_id)


def test_reusing_an_outer_order_no_for_someone_else_is_rejected(gw):
    outer_order_no, _certify_id = _start(gw)
    other = {"cert_name": "王芳", "cert_no": "310104199207214802"}

    with pytest.raises(GatewayRejected) as refused:
        _start(gw, person=other, outer_order_no=outer_order_no)

    assert refused.value.sub_code == certification.OUTER_ORDER_NO_CONFLICT
    assert refused.value.gateway_code == "40004"


def test_an_invalid_id_number_is_rejected_as_an_illegal_argument(gw):
    with pytest.raises(GatewayRejected) as refused:
        _start(gw, person={"cert_name": "张伟", "cert_no": "110101198803141118"})

    assert refused.value.sub_code == certification.ILLEGAL_ARGUMENT
    assert "cert_no" in refused.value.sub_msg


def test_an_unfinished_certification_is_not_passed_and_not_finished(gw):
    _outer, certify_id = _start(gw)

    result = certification.query_certification(gw, certify_id)

    assert result == certification.CertificationResult(passed=False, fail_reason=None)
    assert not result.finished


def test_a_passed_certification_reads_as_passed_and_finished(gw, mock_idp):
    _outer, certify_id = _start(gw)
    _complete(mock_idp, certify_id, passed=True)

    result = certification.query_certification(gw, certify_id)

    assert result == certification.CertificationResult(passed=True)
    assert result.finished


def test_a_failed_certification_reads_as_finished_with_its_reason(gw, mock_idp):
    _outer, certify_id = _start(gw)
    _complete(mock_idp, certify_id, passed=False, fail_reason="活体检测未通过（LIVENESS_FAILED）")

    result = certification.query_certification(gw, certify_id)

    assert not result.passed
    assert result.fail_reason == "活体检测未通过（LIVENESS_FAILED）"
    assert result.finished


def test_an_unknown_certify_id_is_rejected_with_the_not_exist_sub_code(gw):
    with pytest.raises(GatewayRejected) as refused:
        certification.query_certification(gw, secrets.token_hex(16))

    assert refused.value.sub_code == certification.CERTIFY_ID_NOT_EXIST


def test_the_page_url_is_a_signed_gateway_url_that_opens_the_face_scan_page(gw, mock_idp):
    _outer, certify_id = _start(gw)

    url = certification.certify_page_url(gw, certify_id)

    query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(gw.url + "?")
    assert query["method"] == certification.CERTIFY
    assert query["biz_content"] == f'{{"certify_id":"{certify_id}"}}'
    assert query["sign_type"] == "RSA2" and query["sign"]
    page = httpx.get(url)
    assert page.status_code == 200
    assert 'data-testid="name">*伟<' in page.text
    assert ZHANG_WEI["cert_no"] not in page.text


def test_a_tampered_page_url_is_refused_by_the_gateway(gw, mock_idp):
    _outer, certify_id = _start(gw)
    url = certification.certify_page_url(gw, certify_id)

    page = httpx.get(url.replace(certify_id, secrets.token_hex(16)))

    assert page.status_code == 400
    assert "isv.invalid-signature" in page.text
