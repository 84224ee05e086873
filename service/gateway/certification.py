"""Real-name authentication (`alipay.user.certify.open.*`, face verification), in plain values.

Three steps, as on the real platform: `initialize_certification` registers who is to be verified
and returns a `certify_id`; `certify_page_url` is the signed `gateway.do` URL the user's browser
opens to do the face scan (the platform then sends the browser to `return_url`); and
`query_certification` asks for the outcome. The browser coming back proves nothing: only the
query's answer counts.

`outer_order_no` is the idempotency key: initializing again with the same number and the same
content returns the same `certify_id`, so the call is safe to retry; the same number with other
content is refused (`OUTER_ORDER_NO_CONFLICT`). A `certify_id` stays usable for about 23 hours;
after that, or for an id the gateway never issued, the query is refused with
`CERTIFY_ID_NOT_EXIST`. Both refusals surface as `GatewayRejected` carrying that `sub_code`.

Face material is never kept by the platform for Minifin: every initialization asks for
`face_reserve_strategy=never`.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.gateway.client import GatewayClient

INITIALIZE = "alipay.user.certify.open.initialize"
CERTIFY = "alipay.user.certify.open.certify"
QUERY = "alipay.user.certify.open.query"
BIZ_CODES = ("FACE", "CERT_PHOTO", "CERT_PHOTO_FACE", "SMART_FACE")
CERTIFY_ID_NOT_EXIST = "OPEN_CERTIFY_BILL_NOT_EXIST"
OUTER_ORDER_NO_CONFLICT = "OUTER_ORDER_NO_REPEAT"
ILLEGAL_ARGUMENT = "ILLEGAL_ARGUMENT_FORMAT"


@dataclass(frozen=True)
class CertificationResult:
    """What the gateway says about one certification.

    The platform answers `passed=F` both while the user has not finished and after a failure.
    A failure is told apart by its `fail_reason`; `finished` is therefore true once the person
    passed or a reason was given. The real platform documents `fail_reason` as an extension it
    may leave out, so a caller that has seen the user come back from the page and still reads
    an unfinished `F` should keep asking until the `certify_id` expires, then treat it as failed.
    """

    passed: bool
    fail_reason: str | None = None

    @property
    def finished(self) -> bool:
        return self.passed or self.fail_reason is not None


def initialize_certification(
    gateway: GatewayClient,
    *,
    outer_order_no: str,
    cert_name: str,
    cert_no: str,
    return_url: str,
    biz_code: str = "FACE",
) -> str:
    """Register a face verification of this name and ID-card number; returns its `certify_id`.

    `outer_order_no` (at most 32 letters and digits) makes a retry return the same id.
    Invalid input (an ID number of the wrong shape, an unknown `biz_code`, an over-long
    `outer_order_no`) is refused with `ILLEGAL_ARGUMENT_FORMAT`.
    """
    answer = gateway.call(
        INITIALIZE,
        {
            "outer_order_no": outer_order_no,
            "biz_code": biz_code,
            "identity_param": {
                "identity_type": "CERT_INFO",
                "cert_type": "IDENTITY_CARD",
                "cert_name": cert_name,
                "cert_no": cert_no,
            },
            "merchant_config": {"return_url": return_url, "face_reserve_strategy": "never"},
        },
        safe_to_retry=True,
    )
    return str(answer["certify_id"])


def certify_page_url(gateway: GatewayClient, certify_id: str) -> str:
    """The signed `gateway.do` URL that opens the face-scan page for this certification.

    Nothing is sent: the URL is built and signed here, and the user's browser opens it. Build
    it when the user is about to go, since the gateway checks the signature's timestamp format.
    """
    return gateway.page_url(CERTIFY, {"certify_id": certify_id})


def query_certification(gateway: GatewayClient, certify_id: str) -> CertificationResult:
    """The certification's outcome so far (see `CertificationResult` for "not finished")."""
    answer = gateway.call(QUERY, {"certify_id": certify_id}, safe_to_retry=True)
    reason = answer.get("fail_reason")
    return CertificationResult(
        passed=_passed(answer.get("passed")),
        fail_reason=str(reason) if reason else None,
    )


def _passed(value: object) -> bool:
    """`T`, or `["T"]` as some gateway versions and SDK models have it, means passed."""
    if isinstance(value, list):
        value = value[0] if value else None
    return value == "T"
