"""The mock's demo users: valid ID numbers, platform-shaped ids, varied credit and face outcomes."""

from __future__ import annotations

import json
import re
from datetime import date
from importlib import resources

import pytest

from service.mock_idp.demo_idcard import check_character, is_valid_id_number
from service.mock_idp.demo_users import UserInvalid, load_demo_users, masked_name, validated_user

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def raw_demo_users() -> list[dict]:
    text = resources.files("service.mock_idp").joinpath("data/demo_users.json").read_text("utf-8")
    return json.loads(text)["users"]


def mod_11_2_check(first_17: str) -> str:
    """ISO 7064 MOD 11-2 written out independently of the code under test."""
    remainder = (
        sum(int(digit) * weight for digit, weight in zip(first_17, WEIGHTS, strict=True)) % 11
    )
    return "10X98765432"[remainder]


def test_there_are_at_least_twenty_demo_users():
    assert len(raw_demo_users()) >= 20


def test_every_demo_id_number_passes_the_mod_11_2_check():
    for user in raw_demo_users():
        number = user["cert_no"]
        assert re.fullmatch(r"\d{17}[\dX]", number), number
        assert mod_11_2_check(number[:17]) == number[17], number
        assert is_valid_id_number(number), number


def test_every_demo_id_number_has_a_plausible_birth_date_and_matching_gender():
    for user in raw_demo_users():
        number = user["cert_no"]
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        assert date(1940, 1, 1) <= born <= date(date.today().year - 18, 12, 31), number
        assert user["gender"] == ("M" if int(number[16]) % 2 else "F"), number


def test_one_demo_id_number_ends_with_the_check_character_x():
    assert any(user["cert_no"].endswith("X") for user in raw_demo_users())


def test_demo_user_ids_are_2088_and_twelve_digits_and_unique():
    ids = [user["user_id"] for user in raw_demo_users()]
    assert all(re.fullmatch(r"2088\d{12}", user_id) for user_id in ids)
    assert len(set(ids)) == len(ids)


def test_demo_names_include_a_compound_surname_and_a_middle_dot():
    names = [user["user_name"] for user in raw_demo_users()]
    assert any(name.startswith(("欧阳", "司马", "诸葛")) for name in names)
    assert any("·" in name for name in names)


def test_demo_credit_profiles_vary_and_one_user_cannot_be_evaluated():
    credits = [user["credit"] for user in raw_demo_users()]
    scores = [c["zm_score"] for c in credits if c["evaluable"]]
    assert all(350 <= score <= 950 for score in scores)
    assert max(scores) >= 800 and min(scores) < 550
    assert any(not c["evaluable"] and c["zm_score"] is None for c in credits)
    assert len({c["waiver_limit_fen"] for c in credits}) > 3


def test_most_demo_faces_pass_and_a_couple_fail_with_a_reason():
    faces = [user["face"] for user in raw_demo_users()]
    failures = [face for face in faces if face["outcome"] == "fail"]
    assert 2 <= len(failures) < len(faces) / 2
    assert all(face["reason"] for face in failures)


def test_every_demo_user_is_valid_as_the_control_api_would_check_it():
    assert [user["user_id"] for user in load_demo_users()] == [
        user["user_id"] for user in raw_demo_users()
    ]


@pytest.mark.parametrize("last", list("0123456789X"))
def test_only_the_right_check_character_is_valid(last):
    first_17 = "11010519491231002"  # the standard's own example, whose check character is X
    assert is_valid_id_number(first_17 + last) == (last == "X")
    assert check_character(first_17) == mod_11_2_check(first_17) == "X"


@pytest.mark.parametrize(
    "number",
    ["110105194902301234", "110105299901011234", "990105194912310021", "11010519491231002"],
)
def test_impossible_dates_unknown_provinces_and_short_numbers_are_invalid(number):
    fixed = number[:17] + check_character(number[:17]) if len(number) == 18 else number
    assert not is_valid_id_number(fixed)


def test_a_new_user_gets_an_id_defaults_and_a_gender_from_the_id_number():
    user = validated_user({"user_name": "测试", "cert_no": "11010519491231002X"})
    assert re.fullmatch(r"2088\d{12}", user["user_id"])
    assert user["gender"] == "F" and user["is_certified"] is True
    assert user["credit"] == {"zm_score": 650, "waiver_limit_fen": 0, "evaluable": True}


def test_a_certified_user_without_an_id_number_is_refused():
    with pytest.raises(UserInvalid):
        validated_user({"user_name": "测试", "is_certified": True})


def test_names_are_masked_except_the_last_character():
    assert masked_name("张伟") == "*伟"
    assert masked_name("欧阳晓雪") == "***雪"
