"""The mock's face-verification rules that need no server: masking and the query's fields."""

from __future__ import annotations

import json

import pytest

from service.mock_idp.certifications import Certification, query_fields
from service.mock_idp.demo_users import masked_cert_no, masked_name


@pytest.mark.parametrize(
    ("name", "shown"),
    [("张三", "*三"), ("欧阳晓雪", "***雪"), ("李", "李"), ("阿依古丽·买买提", "*******提")],
)
def test_the_page_shows_only_the_last_character_of_a_name(name, shown):
    assert masked_name(name) == shown


@pytest.mark.parametrize(
    ("cert_no", "shown"),
    [
        ("110101198803141119", "110***********1119"),
        ("44030519900130039X", "440***********039X"),
        ("1234567", "*******"),
    ],
)
def test_an_id_number_keeps_its_first_three_and_last_four_characters(cert_no, shown):
    assert masked_cert_no(cert_no) == shown


def certification(**changes) -> Certification:
    values = {
        "app_id": "2021000000000001",
        "outer_order_no": "idv_1",
        "biz_code": "FACE",
        "cert_name": "张伟",
        "cert_no": "110101198803141119",
        "return_url": "https://shop.example/back",
        "face_reserve_strategy": "never",
        "certify_id": "0" * 32,
        "user_id": "2088102146225135",
        "created_at": 1.0,
        "expires_at": 2.0,
    }
    return Certification(**{**values, **changes})


def test_an_unfinished_certification_answers_f_without_a_reason():
    fields = query_fields(certification())

    assert fields["passed"] == "F"
    assert "fail_reason" not in fields
    assert (fields["identity_info"], fields["material_info"]) == ("{}", "{}")


def test_a_failed_certification_answers_f_with_its_reason():
    fields = query_fields(certification(finished_at=1.5, passed=False, fail_reason="超时"))

    assert (fields["passed"], fields["fail_reason"]) == ("F", "超时")


@pytest.mark.parametrize(
    ("strategy", "material"), [("reserve", {"face_reserved": "T"}), ("never", {})]
)
def test_face_material_is_marked_only_when_the_face_may_be_kept(strategy, material):
    done = certification(face_reserve_strategy=strategy, finished_at=1.5, passed=True)

    fields = query_fields(done)

    assert fields["passed"] == "T" and "fail_reason" not in fields
    assert json.loads(fields["material_info"]) == material
    assert "cert_no" not in fields["identity_info"]
