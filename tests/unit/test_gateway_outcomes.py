"""The answer table: every row read as it says, unlisted answers read safely, README in step."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.gateway import outcomes
from service.gateway.outcomes import DONE, REFUSED, UNKNOWN, rule_for

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize(
    ("method", "code", "sub_code", "expected", "already"),
    [
        (outcomes.TRADE_PAY, "10000", "", DONE, False),
        (outcomes.TRADE_PAY, "40004", "ACQ.TRADE_HAS_SUCCESS", DONE, True),
        (outcomes.TRADE_PAY, "40004", "ACQ.SYSTEM_ERROR", UNKNOWN, False),
        (outcomes.TRADE_PAY, "10003", "ACQ.WAIT_USER_PAY", UNKNOWN, False),
        (outcomes.TRADE_PAY, "20000", "isp.unknow-error", UNKNOWN, False),
        (outcomes.TRADE_PAY, "40004", "ORDER_ALREADY_FINISH", UNKNOWN, False),
        (outcomes.TRADE_PAY, "40004", "ACQ.TOTAL_FEE_EXCEED", REFUSED, False),
        (outcomes.TRADE_REFUND, "40004", "ACQ.SYSTEM_ERROR", UNKNOWN, False),
        (outcomes.TRADE_REFUND, "40004", "ACQ.TRADE_HAS_FINISHED", REFUSED, False),
        (outcomes.TRADE_CLOSE, "40004", "ACQ.TRADE_STATUS_ERROR", UNKNOWN, False),
        (outcomes.TRADE_CREATE, "40004", "ACQ.TRADE_HAS_SUCCESS", DONE, True),
        (outcomes.UNFREEZE, "40004", "ORDER_ALREADY_FINISH", UNKNOWN, False),
        (outcomes.UNFREEZE, "40004", "SYSTEM_ERROR", UNKNOWN, False),
        (outcomes.UNFREEZE, "40004", "REQUEST_AMOUNT_EXCEED", REFUSED, False),
        (outcomes.DETAIL_QUERY, "40004", "AUTH_OPERATION_NOT_EXIST", REFUSED, False),
        (outcomes.REFUND_QUERY, "40004", "ACQ.SYSTEM_ERROR", UNKNOWN, False),
    ],
)
def test_each_answer_reads_as_the_table_says(method, code, sub_code, expected, already):
    rule = rule_for(method, code, sub_code)

    assert (rule.outcome, rule.already_done) == (expected, already)
    assert rule.source


def test_a_repeated_trade_pay_that_succeeded_is_not_read_as_a_refusal():
    assert rule_for(outcomes.TRADE_PAY, "40004", "ACQ.TRADE_HAS_SUCCESS").outcome != REFUSED


def test_an_unlisted_business_failure_is_a_refusal_and_an_unlisted_code_is_unknown():
    assert rule_for(outcomes.UNFREEZE, "40004", "SOMETHING_NEW").outcome == REFUSED
    assert rule_for(outcomes.UNFREEZE, "40002", "isv.invalid-parameter").outcome == REFUSED
    assert rule_for(outcomes.UNFREEZE, "30000", "").outcome == UNKNOWN


def test_a_success_with_a_sub_code_is_not_read_as_done():
    assert rule_for(outcomes.TRADE_PAY, "10000", "ACQ.SOMETHING").outcome != DONE


def test_every_row_names_its_source_and_one_of_three_outcomes():
    for method, code, _sub_code, rule in outcomes.table_rows():
        assert method == outcomes.ANY or method in outcomes.MONEY_METHODS
        assert code.isdigit() and rule.outcome in (DONE, REFUSED, UNKNOWN)
        assert rule.source.startswith(("reference §", "platform docs: "))


def test_the_readme_shows_the_table_the_code_uses():
    assert outcomes.markdown_table() in README.read_text(encoding="utf-8")
