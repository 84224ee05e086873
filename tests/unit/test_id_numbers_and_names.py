"""The rules a resident ID number and a real name must meet before any gateway call."""

from __future__ import annotations

from datetime import date

import pytest

from service.identity.idcard import (
    IdentityRuleError,
    check_character,
    normalize_name,
    parse_id_number,
)
from service.security.masking import mask_id_number, mask_name

TODAY = date(2026, 11, 25)

VALID = [
    ("110101198803141119", date(1988, 3, 14)),
    ("44030519900130039X", date(1990, 1, 30)),
    ("44030519900130039x", date(1990, 1, 30)),  # a lowercase x is the same number
    (" 310104199207214802 ", date(1992, 7, 21)),  # pasted with spaces around it
    ("110105200002290013", date(2000, 2, 29)),  # a leap day
    ("810000199408230021", date(1994, 8, 23)),  # Hong Kong residents' residence permit
]

INVALID = [
    ("110101198803141118", "id_number_check_character"),
    ("44030519900130039Y", "id_number_malformed"),
    ("440305199001300391", "id_number_check_character"),
    ("110101880314111", "id_number_legacy"),  # the 15-digit numbers replaced in 2004
    ("11010119880314111", "id_number_malformed"),  # 17 characters
    ("1101011988031411190", "id_number_malformed"),  # 19 characters
    ("11010119880314111９", "id_number_malformed"),  # a full-width digit
    ("", "id_number_malformed"),
    ("110101190002290011", "id_number_birth_date"),  # 1900 was not a leap year
    ("110101198802300011", "id_number_birth_date"),  # 30 February
    ("110101198813010011", "id_number_birth_date"),  # month 13
    ("110101202712010011", "id_number_birth_date"),  # born in the future
    ("110101189912310011", "id_number_birth_date"),  # before 1900
    ("990101198803141116", "id_number_region"),
    ("000101198803141116", "id_number_region"),
]


def _with_check_character(first_17: str) -> str:
    return first_17 + check_character(first_17)


@pytest.mark.parametrize(("raw", "born"), VALID)
def test_valid_id_numbers_are_accepted_with_their_birth_date(raw, born):
    number = parse_id_number(raw, today=TODAY)
    assert number.birth_date == born
    assert number.value == raw.strip().upper()


@pytest.mark.parametrize(("raw", "code"), INVALID)
def test_invalid_id_numbers_are_refused_with_a_code_naming_the_rule(raw, code):
    # the impossible-date and region cases carry a correct check character, so the rule that
    # refuses them is the one the test names and not the checksum
    if code in {"id_number_birth_date", "id_number_region"}:
        raw = _with_check_character(raw[:17])
    with pytest.raises(IdentityRuleError) as refused:
        parse_id_number(raw, today=TODAY)
    assert refused.value.code == code
    assert refused.value.message


def test_a_birth_date_of_today_is_possible_and_of_tomorrow_is_not():
    assert parse_id_number(_with_check_character("11010120261125001"), today=TODAY)
    with pytest.raises(IdentityRuleError, match="birth date"):
        parse_id_number(_with_check_character("11010120261126001"), today=TODAY)


def test_the_check_character_follows_iso_7064_mod_11_2():
    # the worked example of GB 11643-1999, Annex A
    assert check_character("11010519491231002") == "X"
    assert check_character("44052418800101001") == "4"


def test_adulthood_starts_on_the_eighteenth_birthday():
    number = parse_id_number(_with_check_character("11010120081125001"), today=TODAY)
    assert number.is_adult_on(date(2026, 11, 25))
    assert not number.is_adult_on(date(2026, 11, 24))
    assert number.age_on(date(2026, 11, 24)) == 17


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("张三", "张三"),
        (" 欧阳娜娜 ", "欧阳娜娜"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),  # a bullet typed for the middle dot
        ("阿依古丽・买买提", "阿依古丽·买买提"),  # the katakana middle dot
        ("𠀀乙", "𠀀乙"),  # a rare character outside the basic block
    ],
)
def test_chinese_names_are_accepted_and_normalised(raw, name):
    assert normalize_name(raw) == name


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("张", "name_length"),
        ("张" * 31, "name_length"),
        ("Zhang San", "name_characters"),
        ("张三1", "name_characters"),
        ("·张三", "name_characters"),
        ("张三·", "name_characters"),
        ("阿依··买买提", "name_characters"),
        ("张 三", "name_characters"),
    ],
)
def test_names_that_are_not_written_as_on_an_id_card_are_refused(raw, code):
    with pytest.raises(IdentityRuleError) as refused:
        normalize_name(raw)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "*三"),
        ("欧阳锋", "欧阳*"),
        ("欧阳娜娜", "欧阳**"),
        ("张三丰", "张**"),
        ("阿依·买买提", "阿*·***"),
    ],
)
def test_names_are_masked_to_their_family_or_given_name(name, masked):
    assert mask_name(name) == masked


def test_id_numbers_are_masked_to_region_and_last_four():
    assert mask_id_number("110101198803141119") == "110***********1119"
