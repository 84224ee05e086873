"""Mobile numbers are normalised one way for gift orders and logins, so their digests meet."""

from __future__ import annotations

import pytest

from service.auth.phones import normalised_phone


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
    ],
)
def test_the_ways_people_write_a_mobile_number_give_one_number(given, expected):
    assert normalised_phone(given) == expected


@pytest.mark.parametrize(
    "given", ["", "12812345678", "1381234567", "138123456789", "+1 415 555 0100", "1381234567x"]
)
def test_what_is_not_a_mainland_mobile_gives_nothing(given):
    assert normalised_phone(given) is None
