"""Pure credit rules: reading fund operations off the wire, and explaining a check's outcome."""

from __future__ import annotations

import pytest

from service.credit.explanations import ADMITTED, NOT_ADMITTED, NOT_EVALUABLE, PENDING, explain
from service.gateway.errors import GatewayBadResponse
from service.gateway.fund_auth import operation_from, split_of

NOTIFIED = {
    "auth_no": "2026120110645707732966805630",
    "out_order_no": "dep_x",
    "operation_id": "202612010003483776753884",
    "out_request_no": "dep_x_freeze",
    "operation_type": "FREEZE",
    "status": "SUCCESS",
    "amount": "6000.00",
    "credit_amount": "5000.00",
    "fund_amount": "1000.00",
    "rest_amount": "6000.00",
}


def test_a_notified_freeze_reads_as_integer_fen_with_its_credit_and_fund_split():
    operation = operation_from(NOTIFIED)

    assert (operation.amount_fen, operation.rest_fen) == (600000, 600000)
    assert (operation.split.credit_fen, operation.split.fund_fen) == (500000, 100000)
    assert operation.succeeded and operation.out_request_no == "dep_x_freeze"


def test_an_answer_naming_no_split_is_all_real_money():
    assert split_of({"amount": "99.00"}, 9900) == split_of({}, 9900)
    assert (split_of({}, 9900).credit_fen, split_of({}, 9900).fund_fen) == (0, 9900)


def test_gaps_in_an_answer_are_filled_from_what_was_asked_and_empty_values_ignored():
    answer = {"auth_no": "", "operation_id": "1", "status": "SUCCESS", "credit_amount": "0.00",
              "fund_amount": "30.00"}  # fmt: skip

    operation = operation_from(answer, defaults={"auth_no": "A1", "amount": "30.00"})

    assert (operation.auth_no, operation.amount_fen, operation.split.fund_fen) == ("A1", 3000, 3000)


@pytest.mark.parametrize("broken", [{"amount": "12.345"}, {"amount": "lots"}, {"amount": None}])
def test_an_operation_without_a_readable_amount_cannot_be_trusted(broken):
    with pytest.raises(GatewayBadResponse):
        operation_from({**NOTIFIED, **broken})


@pytest.mark.parametrize("outcome", [ADMITTED, NOT_ADMITTED, NOT_EVALUABLE, PENDING])
def test_every_outcome_is_explained_with_its_threshold_and_purpose_in_plain_words(outcome):
    text = explain(outcome, threshold=650, purpose="deposit_waiver")

    assert "650" in text and "waiving a deposit" in text
    assert "{" not in text


def test_a_decision_says_that_no_score_was_received_and_what_the_user_can_do():
    for outcome in (ADMITTED, NOT_ADMITTED):
        text = explain(outcome, threshold=600, purpose="credit_check")
        assert "did not receive or store your score" in text
        assert "withdraw" in text
