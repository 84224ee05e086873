"""Zhima credit (`zhima.credit.score.*`) through the gateway: admittance checks and raw scores.

Each call is keyed by a `transaction_id` the platform deduplicates on, so it is safe to repeat
after a timeout. An admittance check answers only whether the person clears a threshold; the
score itself never comes back (the raw-score read is for apps the platform granted it).
"""

from __future__ import annotations

from service.gateway.client import GatewayClient

SCORE_BRIEF_GET = "zhima.credit.score.brief.get"
SCORE_GET = "zhima.credit.score.get"
BRIEF_PRODUCT_CODE = "w1010100000000002733"
SCORE_PRODUCT_CODE = "w1010100100000000001"
INSUFFICIENT_USER_PERMISSIONS = "isv.insufficient-user-permissions"


def admittance(
    gateway: GatewayClient,
    *,
    transaction_id: str,
    name: str,
    id_number: str,
    threshold: int,
) -> tuple[bool | None, str]:
    """Whether the person's credit clears `threshold`; None when it cannot be evaluated.

    Returns the decision and the platform's `biz_no`. The score itself never comes back.
    """
    answer = gateway.call(
        SCORE_BRIEF_GET,
        {
            "transaction_id": transaction_id,
            "product_code": BRIEF_PRODUCT_CODE,
            "cert_type": "IDENTITY_CARD",
            "cert_no": id_number,
            "name": name,
            "admittance_score": threshold,
        },
        safe_to_retry=True,
    )
    decision = {"Y": True, "N": False}.get(str(answer.get("is_admittance", "")).upper())
    return decision, str(answer.get("biz_no", ""))


def raw_score(gateway: GatewayClient, *, transaction_id: str, auth_token: str) -> int | None:
    """The legacy raw Zhima score (apps granted it only); None when it cannot be evaluated."""
    answer = gateway.call(
        SCORE_GET,
        {"transaction_id": transaction_id, "product_code": SCORE_PRODUCT_CODE},
        auth_token=auth_token,
        safe_to_retry=True,
    )
    score = str(answer.get("zm_score", ""))
    return int(score) if score.isdigit() else None
