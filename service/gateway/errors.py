"""How a gateway call can fail, each error carrying the problem it is answered with.

The gateway imports nothing of the rest of Minifin (the mock and the settings checks use its
protocol code), so these are not `service.errors.DomainError`s: they carry the same fields
(`status`, `code`, `title`, `detail`, `errors`, `headers`), and service/errors.py answers a
`GatewayError` with the same problem+json handler as a domain error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class GatewayError(Exception):
    """Base of every gateway failure; subclasses fix status, code and title."""

    status: ClassVar[int] = 502
    code: str = "gateway_bad_response"  # a subclass or an instance may name a finer one
    title: ClassVar[str] = "The payment platform answered badly"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        code: str | None = None,
    ):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers or {})
        if code:
            self.code = code


class GatewayUnavailable(GatewayError):
    """Timeout, connection failure or `20000 Service Currently Unavailable`: retry later.

    Also an answer still arriving at the call's total deadline, a connection reset mid-answer
    and a non-200 answer (a proxy's error page): the platform may be fine behind them.

    `maybe_done` tells the two kinds apart for calls the platform does not deduplicate: True when
    the request may have reached the platform and its answer was lost (a read timeout, a
    connection cut after sending), False when the platform cannot have acted (no connection was
    made, or it answered `20000`).
    """

    status, code, title = 503, "gateway_unavailable", "The payment platform is unavailable"

    def __init__(
        self,
        detail: str | None = None,
        *,
        maybe_done: bool = False,
        retry_after: int = 5,
        **kwargs: Any,
    ):
        super().__init__(detail, **kwargs)
        self.headers.setdefault("Retry-After", str(retry_after))
        self.maybe_done = maybe_done


class GatewayBadResponse(GatewayError):
    """The answer cannot be trusted: unsigned, a signature that fails, or not the envelope.

    Not the envelope covers an answer over the size cap, a 200 that is not JSON and a signed
    envelope for another method: retrying will not make such a gateway answer better.
    """

    code = "gateway_bad_response"


class GatewayRejected(GatewayError):
    """The gateway refused the call with a business or argument error (4000x).

    Services translate the sub-codes they expect into their own errors; any other refusal is a
    502 because it means Minifin sent something the platform would not take.
    """

    code = "gateway_rejected"

    def __init__(self, method: str, code: str, msg: str, sub_code: str, sub_msg: str):
        super().__init__(f"The platform refused {method}: {sub_code or code}")
        self.method = method
        self.gateway_code = code
        self.msg = msg
        self.sub_code = sub_code
        self.sub_msg = sub_msg


class GatewayOutcomeUnknown(GatewayUnavailable):
    """The platform answered, but its answer leaves open whether it acted (e.g. `SYSTEM_ERROR`).

    A 503 like any lost answer: the caller keeps what it recorded pending and asks by query.
    """

    code = "gateway_outcome_unknown"

    def __init__(self, method: str, gateway_code: str, sub_code: str):
        super().__init__(
            f"The platform's answer to {method} ({sub_code or gateway_code}) leaves the outcome"
            " open; it is being reconciled."
        )
        self.method = method
        self.gateway_code = gateway_code
        self.sub_code = sub_code
