"""Posting one webhook: Standard Webhooks headers and signatures, one attempt, its outcome.

The body is `{"type", "timestamp", "data"}` (data: the event as `GET /v1/events` shows it),
signed with the `standardwebhooks` package over `id.timestamp.body`; during a secret rotation's
overlap both secrets sign and both signatures are sent, space-separated, as the specification
allows, so a receiver that knows either verifies. The id is the event's, the same on every
retry, so receivers de-duplicate by it; the timestamp is the attempt's.

An attempt succeeds on a 2xx within `MINIFIN_WEBHOOK_TIMEOUT_SECONDS` (a whole-attempt deadline,
not per read); redirects are not followed (a 3xx is a failure), and at most 64 KiB of the answer
is read, of which the first KiB is kept.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from flask import current_app
from standardwebhooks import Webhook

from service.webhooks.ssrf import PinnedTransport, RefusedAddress, Resolver

KEPT_BYTES, READ_BYTES = 1024, 64 * 1024
USER_AGENT = "Minifin-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: a status code or why none came, how long, the answer's first KiB."""

    status_code: int | None
    error: str | None
    duration_ms: int
    body: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def summary(self) -> str:
        return f"HTTP {self.status_code}" if self.status_code is not None else str(self.error)


def body_of(event_type: str, timestamp: datetime, data: dict[str, Any]) -> str:
    """The JSON body of a delivery, compact, as it is signed and sent."""
    payload = {"type": event_type, "timestamp": timestamp.isoformat(), "data": data}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def signed_headers(msg_id: str, secrets: Sequence[str], body: str, now: datetime) -> dict:
    """The three Standard Webhooks headers; one `v1,…` signature per secret."""
    signatures = " ".join(Webhook(secret).sign(msg_id, now, body) for secret in secrets)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def configured_resolver() -> Resolver | None:
    """The resolver the app was given (tests point names anywhere), else the system's."""
    return current_app.extensions.get("webhook_resolver")


def new_client(*, allow_private: bool, resolver: Resolver | None, timeout: float) -> httpx.Client:
    """A client that pins each request to its checked address and follows no redirect."""
    return httpx.Client(
        transport=PinnedTransport(allow_private=allow_private, resolver=resolver),
        follow_redirects=False,
        timeout=httpx.Timeout(timeout),
        trust_env=False,  # no proxy from the environment: the address checked is the one used
    )


def post(client: httpx.Client, url: str, headers: dict, body: str, timeout: float) -> Outcome:
    """One attempt; never raises for what the network or the receiver does."""
    started = time.monotonic()
    deadline = started + timeout

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        with client.stream("POST", url, content=body.encode(), headers=headers) as response:
            kept = _read_limited(response, deadline)
            text = kept.decode("utf-8", errors="replace").replace("\x00", "\ufffd")  # no NUL in SQL
            return Outcome(response.status_code, None, elapsed(), text)
    except RefusedAddress as error:
        return Outcome(None, str(error)[:200], elapsed(), None)
    except TimeoutError:
        return Outcome(None, f"timed out after {timeout:g}s", elapsed(), None)
    except httpx.TimeoutException:
        return Outcome(None, f"timed out after {timeout:g}s", elapsed(), None)
    except httpx.HTTPError as error:
        return Outcome(None, f"{type(error).__name__}: {error}"[:200], elapsed(), None)


def _read_limited(response: httpx.Response, deadline: float) -> bytes:
    """Read at most READ_BYTES of the answer before the deadline; keep the first KEPT_BYTES."""
    kept, read = bytearray(), 0
    for chunk in response.iter_raw(8192):
        if time.monotonic() > deadline:
            raise TimeoutError
        if len(kept) < KEPT_BYTES:
            kept.extend(chunk[: KEPT_BYTES - len(kept)])
        read += len(chunk)
        if read >= READ_BYTES:
            break
    if time.monotonic() > deadline:
        raise TimeoutError
    return bytes(kept)
