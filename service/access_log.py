"""Request lines in access logs without the secrets some URLs carry.

A claim link's token (`/claim/<token>`, `/v1/claims/<token>`) and a voucher code
(`/v1/vouchers/<code>/redemptions`, or `/v1/vouchers/<code>` typed where an id belongs) are
bearer secrets: whoever reads them can claim or spend. Access logs are kept longer and read by
more people than the database, so they get the path with those segments replaced by `…`, and
no query string (it may carry an authorisation code).

Which segments are secret is read from the routes, not from a list kept here: a route declares a
segment that may hold a bearer secret with the `secret` converter (`/v1/claims/<secret:token>`);
`install()` registers the converter on the app before its routes are added, and `learn_routes()`
reads the rules once they are. Every rule with such a segment, and any path under the same
prefix (a mistyped sub-path, an unknown method), has that segment redacted; a static route
beside it (`/claim/return`) is left alone. A process that learned no routes redacts every path
whole, so a forgotten call fails closed.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any, cast

from flask import Flask
from gunicorn.glogging import Logger as GunicornLogger
from werkzeug.routing import UnicodeConverter

if TYPE_CHECKING:
    from gunicorn.glogging import _AtomsDict

REDACTED = "…"
SECRET_CONVERTER = "secret"
_SEGMENT = r"[^/?#\s\"]+"
_PLACEHOLDER = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_QUERY = re.compile(r"\?[^\s\"]*")
_ANY_PATH = re.compile(r"(?<![\w/])/[^?#\s\"]*")
_lock = threading.Lock()
_rules: set[str] = set()
_secret_segments: list[re.Pattern[str]] | None = None  # None until routes are learned


class BearerSecretConverter(UnicodeConverter):
    """`<secret:name>`: a path segment that may be a bearer secret; access logs never show it."""


def install(app: Flask) -> None:
    """Give the app the `secret` converter; call before any route is added."""
    app.url_map.converters[SECRET_CONVERTER] = BearerSecretConverter
    install_werkzeug_filter()


def learn_routes(app: Flask) -> None:
    """Redact, from now on in this process, the secret segments of the app's routes."""
    global _secret_segments
    with _lock:
        _rules.update(rule.rule for rule in app.url_map.iter_rules())
        _secret_segments = _rule_patterns(sorted(_rules))


def _rule_patterns(rules: list[str]) -> list[re.Pattern[str]]:
    """One pattern per secret segment: the rule's text before it, then the segment itself."""
    patterns: dict[str, re.Pattern[str]] = {}
    for rule in rules:
        prefix = ""
        literal: str | None = ""  # the rule's text so far while it is all static
        position = 0
        for match in _PLACEHOLDER.finditer(rule):
            static = rule[position : match.start()]
            prefix += re.escape(static)
            literal = literal + static if literal is not None else None
            if match.group("converter") == SECRET_CONVERTER:
                siblings = _static_siblings(rules, literal)
                avoid = f"(?!(?:{'|'.join(map(re.escape, siblings))})(?:[/?#\\s\"]|$))" if (
                    siblings) else ""  # fmt: skip
                source = f"(?P<head>{prefix}){avoid}{_SEGMENT}"
                patterns.setdefault(source, re.compile(source))
            prefix += _SEGMENT
            literal = None  # past a dynamic segment the prefix is no longer plain text
            position = match.end()
    return list(patterns.values())


def _static_siblings(rules: list[str], literal: str | None) -> set[str]:
    """Static segments other rules have where this rule has its secret (`return` in /claim/)."""
    if not literal:
        return set()
    found = set()
    for rule in rules:
        if rule.startswith(literal) and not rule[len(literal) :].startswith("<"):
            segment = rule[len(literal) :].split("/", 1)[0]
            if segment:
                found.add(segment)
    return found


def redact(text: str) -> str:
    """`GET /v1/claims/abc?x=1 HTTP/1.1` → `GET /v1/claims/… HTTP/1.1`."""
    without_query = _QUERY.sub("", text)
    patterns = _secret_segments
    if patterns is None:  # no routes known: nothing of any path is shown
        return _ANY_PATH.sub("/" + REDACTED, without_query)
    for pattern in patterns:
        without_query = pattern.sub(lambda m: m.group("head") + REDACTED, without_query)
    return without_query


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's logger with every atom (request line, path, referrer, environ) redacted."""

    def atoms(
        self, resp: Any, req: Any, environ: MutableMapping[str, Any], request_time: Any
    ) -> _AtomsDict:
        atoms = super().atoms(resp, req, environ, request_time)
        redacted = {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}
        # The atoms also hold keys the stub's TypedDict does not list ("{name}e", "{name}i").
        return cast("_AtomsDict", {**redacted, "q": "", "{query_string}e": ""})


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
