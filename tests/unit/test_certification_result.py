"""How a certify query's answer reads: passed, failed with a reason, or not finished yet."""

from __future__ import annotations

import pytest

from service.gateway.certification import CertificationResult, _passed


@pytest.mark.parametrize(
    ("value", "passed"),
    [("T", True), ("F", False), (["T"], True), (["F"], False), ([], False), (None, False)],
)
def test_passed_is_t_as_a_string_or_a_one_element_list(value, passed):
    assert _passed(value) is passed


@pytest.mark.parametrize(
    ("result", "finished"),
    [
        (CertificationResult(passed=True), True),
        (CertificationResult(passed=False, fail_reason="活体检测未通过"), True),
        (CertificationResult(passed=False), False),
    ],
)
def test_a_certification_is_finished_once_passed_or_given_a_reason(result, finished):
    assert result.finished is finished
