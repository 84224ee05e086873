"""Calls to the open gateway: signed requests, verified responses, failures as domain errors.

Nothing above this module knows whether the other side is the real platform or the mock: the
protocol is the same, only the URL and keys differ.

The answer is read as a stream against a total deadline (`timeout` for the whole call, since
httpx's read timeout is per chunk and an answer trickling a byte at a time would never trip it)
and a size cap (`max_answer_bytes`; the platform's answers are a few KB, a proxy's or an
attacker's several MB are refused before they are buffered). A call that outlasts its deadline
is `GatewayUnavailable` (the platform may have acted); an answer too large, not JSON, not the
method's envelope (e.g. a signed envelope for another method) or not verified is
`GatewayBadResponse`; a non-200 (a proxy's HTML error page) is `GatewayUnavailable`. For money
calls all of these are an unknown outcome (`outcomes.NO_ANSWER`), never a refusal.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from service.gateway import (
    alipaycert,
    bounded_reads,
    content_encryption,
    encrypted_answers,
    outcomes,
    signing,
)
from service.gateway.cert_mode import (
    CertificateFiles,
    KeyMode,
    UntrustedCertificate,
    answer_cert_sn,
    certificate_mode,
    certificates_pem_from_download,
)
from service.gateway.envelopes import (
    BEIJING,
    COMMON_PARAMETERS,
    extract_inner,
    gateway_timestamp,
    other_method_key,
)
from service.gateway.errors import GatewayBadResponse, GatewayRejected, GatewayUnavailable

log = logging.getLogger(__name__)
__all__ = ["BEIJING", "COMMON_PARAMETERS", "GatewayClient", "gateway_timestamp"]
SUCCESS = "10000"
UNAVAILABLE = "20000"
MAX_ANSWER_BYTES = 1024 * 1024  # the platform's largest answers (bill lists) stay far below


class GatewayClient:
    """A keep-alive HTTP client for one merchant app on one gateway."""

    def __init__(
        self,
        url: str,
        app_id: str,
        app_private_key: str,
        platform_public_key: str | None,
        *,
        certificates: CertificateFiles | None = None,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        retries: int = 2,
        retry_after: int = 5,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        aes_key: str | None = None,
        aes_methods: frozenset[str] | None = None,
    ):
        self.url = url
        self.timeout = timeout
        self.max_answer_bytes = max_answer_bytes
        self.app_id = app_id
        self._private_key = signing.load_private_key(app_private_key)
        self._trust = certificate_mode(self._private_key, certificates) or KeyMode(
            signing.load_public_key(platform_public_key or "")
        )
        self.retries = retries
        self.retry_after = retry_after
        self._aes_key = content_encryption.load_key(aes_key) if aes_key else None
        self._aes_methods = aes_methods
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(max_keepalive_connections=20, keepalive_expiry=30),
            headers={"User-Agent": "minifin-gateway-client/0.1"},
        )

    def close(self) -> None:
        self._http.close()

    def signed_parameters(
        self,
        method: str,
        biz_content: Mapping[str, Any] | None = None,
        *,
        encrypt: bool = False,
        **extra: Any,
    ) -> dict[str, str]:
        """All parameters of one call, signed; `extra` holds top-level and common extras.

        With `encrypt`, `biz_content` goes AES-encrypted with `encrypt_type=AES`, signed as sent.
        """
        params: dict[str, Any] = {
            "app_id": self.app_id,
            "method": method,
            "format": "json",
            "charset": "utf-8",
            "sign_type": signing.RSA2,
            "timestamp": gateway_timestamp(),
            "version": "1.0",
            **self._trust.request_parameters(),
            **{k: v for k, v in extra.items() if v is not None},
        }
        if biz_content is not None:
            params["biz_content"] = signing.compact_json(dict(biz_content))
            if encrypt and self._aes_key is not None:
                params = content_encryption.encrypted_request(params, self._aes_key)
        return signing.sign_request(params, self._private_key)

    def encrypts(self, method: str) -> bool:
        """Whether calls of `method` go encrypted (`aes_methods` None: all with a biz_content)."""
        if self._aes_key is None:
            return False
        return self._aes_methods is None or method in self._aes_methods

    def page_url(self, method: str, biz_content: Mapping[str, Any], **extra: Any) -> str:
        """A signed GET URL for page APIs the user's browser opens (e.g. the certify page)."""
        return f"{self.url}?{urlencode(self.signed_parameters(method, biz_content, **extra))}"

    def order_string(self, method: str, biz_content: Mapping[str, Any], **extra: Any) -> str:
        """The URL-encoded signed parameters a mini-program hands to `my.tradePay`."""
        return urlencode(self.signed_parameters(method, biz_content, **extra))

    @property
    def content_key(self) -> bytes | None:
        """The app's AES key (content encryption), or None when none is configured."""
        return self._aes_key

    def verifies(self, message: str, signature: str) -> bool:
        """Whether the platform signed `message` (RSA2) with a key Minifin trusts (the public
        key, or a platform certificate's, learning a rotated one): e.g. a phone answer."""
        return self._trust.verify_signed(
            lambda key: signing.verify(message, signature, key),
            lambda sn: alipaycert.download_certificate(self, sn),  # just after a rotation
        )

    def verify_notification(self, fields: Mapping[str, Any]) -> bool:
        """Whether an asynchronous notification was signed by the platform (by a trusted key)."""
        return self._trust.verify_notification(
            fields, lambda sn: alipaycert.download_certificate(self, sn)
        )

    def call(
        self,
        method: str,
        biz_content: Mapping[str, Any] | None = None,
        *,
        safe_to_retry: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        """Make one call and return the verified inner object of a success.

        Only calls marked safe (reads, or writes keyed by an idempotency number the gateway
        deduplicates on) are retried after timeouts and `20000`; a consumed auth code is not.
        """
        attempts = 1 + (self.retries if safe_to_retry else 0)
        for attempt in range(attempts):
            try:
                return self._call_once(method, biz_content, extra)
            except GatewayUnavailable:
                if attempt + 1 >= attempts:
                    raise
                time.sleep(min(2.0, 0.2 * 2**attempt) * (0.5 + random.random()))  # noqa: S311
        raise AssertionError("unreachable")

    def money_call(
        self, method: str, biz_content: Mapping[str, Any] | None = None, **extra: Any
    ) -> outcomes.Outcome:
        """A call that moves (or reports) money, read through the answer table; never raises.

        Every such call is keyed by a number the platform deduplicates on, so it is retried
        like any safe call; what it came to is done, refused or unknown (see `outcomes`).
        """
        try:
            answer = self.call(method, biz_content, safe_to_retry=True, **extra)
        except GatewayRejected as exc:
            rule = outcomes.rule_for(method, exc.gateway_code, exc.sub_code)
            return outcomes.Outcome(
                method, rule.outcome, exc.gateway_code, exc.sub_code, exc.sub_msg, rule.source,
                rule.already_done, error=exc,
            )  # fmt: skip
        except (GatewayUnavailable, GatewayBadResponse) as exc:
            rule = outcomes.NO_ANSWER
            return outcomes.Outcome(method, rule.outcome, source=rule.source, error=exc)
        return outcomes.Outcome(
            method, outcomes.DONE, outcomes.SUCCESS, source=outcomes.REF_3, answer=answer
        )

    def _call_once(
        self, method: str, biz_content: Mapping[str, Any] | None, extra: Mapping[str, Any]
    ) -> dict[str, Any]:
        params = self.signed_parameters(method, biz_content, encrypt=self.encrypts(method), **extra)
        query = {k: v for k, v in params.items() if k in COMMON_PARAMETERS}
        body = {k: v for k, v in params.items() if k not in COMMON_PARAMETERS}
        started = time.perf_counter()
        try:
            status, content = self._post_within_deadline(query, body, started + self.timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            log.warning("gateway %s unreachable: %s", method, type(exc).__name__)
            raise self._unavailable(f"The platform could not be reached for {method}.") from exc
        except (
            httpx.TimeoutException,
            bounded_reads.DeadlinePassed,
        ) as exc:  # the platform may have acted
            log.warning("gateway %s timed out after %.2fs", method, time.perf_counter() - started)
            raise self._unavailable(
                f"The platform did not answer {method} in time.", maybe_done=True
            ) from exc
        except httpx.TransportError as exc:  # the connection broke after the request went out
            log.warning("gateway %s failed mid-call: %s", method, type(exc).__name__)
            raise self._unavailable(
                f"The platform's answer to {method} was lost.", maybe_done=True
            ) from exc
        except bounded_reads.AnswerTooLarge as exc:
            log.error("gateway %s answered more than %d bytes", method, self.max_answer_bytes)
            raise GatewayBadResponse(f"The platform's answer to {method} was too large.") from exc
        elapsed = time.perf_counter() - started
        if status != 200:
            log.warning("gateway %s answered HTTP %s", method, status)
            raise self._unavailable(
                f"The platform answered {method} with HTTP error.", maybe_done=True
            )
        inner = self._verified_inner(method, content)
        code = str(inner.get("code", ""))
        log.info(
            "gateway %s → %s in %.0f ms", method, inner.get("sub_code") or code, elapsed * 1000
        )
        if code == SUCCESS and "sub_code" not in inner:
            return inner
        if code == UNAVAILABLE:
            raise self._unavailable(f"The platform is temporarily unable to serve {method}.")
        raise GatewayRejected(
            method,
            code,
            str(inner.get("msg", "")),
            str(inner.get("sub_code", "")),
            str(inner.get("sub_msg", "")),
        )

    def _post_within_deadline(
        self, query: Mapping[str, str], body: Mapping[str, str], deadline: float
    ) -> tuple[int, bytes]:
        return bounded_reads.post_within_deadline(
            self._http, self.url, query, body, deadline=deadline, cap=self.max_answer_bytes
        )

    def _verified_inner(self, method: str, body: bytes) -> dict[str, Any]:
        """Cut the inner object out of the body and check the platform's signature over it."""
        encrypted = content_encryption.encrypted_answer(body, signing.response_key(method))
        if encrypted is not None:
            return encrypted_answers.verified_inner(
                method,
                *encrypted,
                key_for=lambda inner: self._answer_key(method, body, inner),
                aes_key=self._aes_key,
            )
        try:
            inner_text, inner, signature = extract_inner(body, signing.response_key(method))
        except (signing.MalformedResponse, UnicodeDecodeError) as exc:
            other = other_method_key(body, signing.response_key(method))
            if other is not None:
                log.error("gateway %s answered for another method (%s)", method, other)
                raise GatewayBadResponse(
                    f"The platform's answer to {method} was for another method."
                ) from exc
            log.error("gateway %s answered a body that is not a response envelope", method)
            raise GatewayBadResponse(f"The platform's answer to {method} was malformed.") from exc
        if signature is None:
            log.error(
                "gateway %s answered unsigned (code %s): is app %s registered with this gateway?",
                method,
                inner.get("code"),
                self.app_id,
            )
            raise GatewayBadResponse(f"The platform's answer to {method} was not signed.")
        if not signing.verify(inner_text, signature, self._answer_key(method, body, inner)):
            log.error("gateway %s response signature did not verify; body withheld", method)
            raise GatewayBadResponse(f"The platform's answer to {method} failed verification.")
        return inner

    def _answer_key(self, method: str, body: bytes, inner: Mapping[str, Any]) -> rsa.RSAPublicKey:
        """The key that must have signed this answer; an untrusted certificate fails the call."""
        try:
            return self._trust.answer_key(
                method, answer_cert_sn(body), inner, self._download_certificate
            )
        except UntrustedCertificate as exc:
            log.error("gateway %s answered under an untrusted certificate: %s", method, exc)
            raise GatewayBadResponse(
                f"The platform's answer to {method} was signed by an untrusted certificate."
            ) from exc

    def _download_certificate(self, sn: str) -> str:
        log.info("gateway: fetching platform certificate %s", sn)
        return certificates_pem_from_download(alipaycert.download_certificate(self, sn))

    def _unavailable(self, detail: str, *, maybe_done: bool = False) -> GatewayUnavailable:
        return GatewayUnavailable(detail, retry_after=self.retry_after, maybe_done=maybe_done)
