"""What Minifin reads from a fund operation: the split that must add up, the payer, the totals."""

from __future__ import annotations

from service.gateway.fund_auth import operation_from

FIELDS = {"auth_no": "2026120110002001", "out_order_no": "dep_1", "out_request_no": "rel1",
          "amount": "99.00", "credit_amount": "60.00", "fund_amount": "39.00",
          "status": "SUCCESS", "payer_user_id": "2088000000000001",
          "total_unfreeze_amount": "99.00", "total_pay_amount": "0.00"}  # fmt: skip


def test_a_split_that_adds_up_is_read_with_its_payer_and_totals():
    operation = operation_from(FIELDS)

    assert operation.split_adds_up
    assert operation.payer_user_id == "2088000000000001" and operation.payer_open_id == ""
    assert (operation.total_unfreeze_fen, operation.total_pay_fen) == (9900, 0)


def test_a_split_whose_credit_and_fund_do_not_make_the_amount_is_noticed():
    assert not operation_from({**FIELDS, "fund_amount": "38.99"}).split_adds_up


def test_absent_totals_are_unknown_not_zero():
    fields = {k: v for k, v in FIELDS.items() if not k.startswith("total_")}

    operation = operation_from(fields)

    assert (operation.total_unfreeze_fen, operation.total_pay_fen) == (None, None)
