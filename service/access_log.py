"""Request lines in access logs without the secrets some URLs carry.

A claim link's token (`/claim/<token>`, `/v1/claims/<token>`) and a voucher code
(`/v1/vouchers/<code>/redemptions`) are bearer secrets: whoever reads them can claim or spend.
Query strings may carry an authorisation code. Access logs are kept longer and read by more people
than the database, so they get the path with those parts replaced by `…`, and no query string.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

REDACTED = "…"
_SECRET_SEGMENT = re.compile(
    r"(?P<head>/claim/)(?!return\b)[^/?#\s\"]+"
    r"|(?P<head2>/v1/claims/)[^/?#\s\"]+"
    r"|(?P<head3>/v1/vouchers/)[^/?#\s\"]+(?=/redemptions)"
)
_QUERY = re.compile(r"\?[^\s\"]*")


def redact(text: str) -> str:
    """`GET /v1/claims/abc?x=1 HTTP/1.1` → `GET /v1/claims/… HTTP/1.1`."""

    def _replace(match: re.Match[str]) -> str:
        head = match.group("head") or match.group("head2") or match.group("head3")
        return head + REDACTED

    return _QUERY.sub("", _SECRET_SEGMENT.sub(_replace, text))


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's logger with every atom (request line, path, referrer, environ) redacted."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        redacted = {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}
        return {**redacted, "q": "", "{query_string}e": ""}


class RedactingFilter(logging.Filter):
    """The same for werkzeug's request lines (`minifin dev`), which log their arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_werkzeug_filter() -> None:
    """Add the filter to werkzeug's logger once per process."""
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactingFilter) for f in werkzeug.filters):
        werkzeug.addFilter(RedactingFilter())
