"""What a credit decision means, in plain words for the person it is about.

An automated decision that matters to a person must be explainable (PIPL art. 24): each outcome
says what was checked, against what, what was not used, and what the person can do next.
"""

from __future__ import annotations

ADMITTED, NOT_ADMITTED, NOT_EVALUABLE, PENDING = (
    "admitted",
    "not_admitted",
    "not_evaluable",
    "pending",
)

_PURPOSES = {
    "deposit_waiver": "waiving a deposit",
    "credit_check": "a credit check",
}

_TEXTS = {
    ADMITTED: (
        "With your consent for {purpose}, we asked Zhima Credit whether your credit score is at "
        "least {threshold}. It is. We did not receive or store your score, only this yes/no "
        "answer. You can withdraw your consent at any time; later checks will then stop."
    ),
    NOT_ADMITTED: (
        "With your consent for {purpose}, we asked Zhima Credit whether your credit score is at "
        "least {threshold}. It is not, so this service cannot rely on your credit alone (you may "
        "be asked for a deposit instead). We did not receive or store your score. Your Zhima "
        "Credit app explains your score and how it can improve; you can ask us to check again "
        "later, or withdraw your consent."
    ),
    NOT_EVALUABLE: (
        "With your consent for {purpose}, we asked Zhima Credit whether your credit score is at "
        "least {threshold}. Zhima Credit could not evaluate your credit (for example, there is "
        "too little history), so no decision was made on your credit. You can use the service "
        "with a deposit instead, or open Zhima Credit in Alipay to see why."
    ),
    PENDING: (
        "With your consent for {purpose}, we asked Zhima Credit whether your credit score is at "
        "least {threshold} and are waiting for its answer; retry with the same Idempotency-Key "
        "to see the result."
    ),
}


def explain(outcome: str, *, threshold: int, purpose: str) -> str:
    """The plain-words explanation of one check's outcome."""
    text = _TEXTS.get(outcome, _TEXTS[PENDING])
    return text.format(threshold=threshold, purpose=_PURPOSES.get(purpose, purpose))
