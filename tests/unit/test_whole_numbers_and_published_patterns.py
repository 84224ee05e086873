"""Integers mean what JSON Schema's `integer` means, and a text field's published pattern is the
rule its validator applies, so what the document promises is what the API accepts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError

from schemas.common import WholeNumber
from schemas.text import PlainText


@given(st.integers(min_value=-(2**53), max_value=2**53))
def test_a_whole_float_is_the_integer_it_equals(number):
    field = WholeNumber()
    assert field.deserialize(float(number)) == number
    assert type(field.deserialize(float(number))) is int
    assert field.deserialize(number) == number


@pytest.mark.parametrize("value", [12.5, 0.1, "12", True, False, None, float("nan"), [1]])
def test_anything_else_is_not_a_whole_number(value):
    with pytest.raises(ValidationError):
        WholeNumber().deserialize(value)


VALIDATORS = [PlainText(), PlainText(shown=True), PlainText(multiline=True),
              PlainText(shown=True, multiline=True)]  # fmt: skip


@pytest.mark.parametrize("validator", VALIDATORS, ids=repr)
@given(value=st.text(st.characters(codec="utf-8"), max_size=12))
def test_the_published_pattern_accepts_exactly_what_the_validator_accepts(validator, value):
    try:
        validator(value)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == bool(validator.regex.fullmatch(value))  # ECMA-262 `$`: the very end


def test_a_field_pattern_of_its_own_is_checked_and_published():
    mobile = PlainText(pattern=r"^1[3-9][0-9]{9}$", error="Not a mainland China mobile number.")
    assert mobile.regex.pattern == r"^1[3-9][0-9]{9}$"
    assert mobile("13812345678") == "13812345678"
    with pytest.raises(ValidationError, match="mobile"):
        mobile("12812345678")
    with pytest.raises(ValidationError, match="control"):
        mobile("1381234567\x00")
