"""Access tokens: ES256 JWTs issued and verified per RFC 8725 (the only module using PyJWT).

Verification never trusts the token to choose anything: the algorithm list is fixed, the key is
looked up by `kid` in our own key set only (no `jku`/`x5u`), and `typ`, `iss`, `aud`, `exp`, `nbf`,
`iat` and `jti` are all required (as are `sub` and `scope`; every token we issue has them).

The JOSE header is read by `read_header` alone, before any key lookup, and it must be exactly
what we issue: a JSON object of the members `alg`, `typ` and `kid`, each a string. Anything else
is refused as `invalid_token_header`: a `crit` member (RFC 7515 §4.1.11: we understand no
extension, so a token naming one must be rejected), an unknown member, a `kid` that is a number,
a list, an object or null. Bad base64 or JSON in any part is `malformed_token`. All are a 401.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from jwt.algorithms import ECAlgorithm
from jwt.utils import base64url_decode

ALGORITHM = "ES256"
ACCESS_TOKEN_TYPE = "at+jwt"
log = logging.getLogger(__name__)
LEEWAY_SECONDS = 5
VERIFIED_CACHE_SIZE = 8192
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "nbf", "iat", "jti", "scope"]
HEADER_MEMBERS = frozenset({"alg", "typ", "kid"})


class InvalidToken(Exception):
    """The presented token is not one of our valid access tokens; `reason` is a stable code."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Key:
    kid: str
    private_key: Any
    public_key: Any


class TokenKeys:
    """The signing key (newest) and every key still trusted for verification.

    Built from a keys file, it re-reads the file when it changes (checked every RELOAD_SECONDS,
    or at once, at most every second, when a token names a key id we do not know), so that
    `minifin keys rotate` reaches every running process without a restart.
    """

    RELOAD_SECONDS = 30.0

    def __init__(
        self,
        jwt_keys: Iterable[Mapping[str, str]],
        *,
        issuer: str,
        audience: str,
        source: Path | None = None,
    ):
        self.issuer = issuer
        self.audience = audience
        self._source = source
        self.clock = time.time
        self._source_mtime = source.stat().st_mtime if source else 0.0
        self._checked_at = float("-inf")
        self._load(jwt_keys)
        # A verified token is remembered by its exact text, so a client reusing its token skips
        # the signature check; expiry is still checked on every use.
        self._verified = functools.lru_cache(maxsize=VERIFIED_CACHE_SIZE)(self._verify_signed)

    def _load(self, jwt_keys: Iterable[Mapping[str, str]]) -> None:
        keys: dict[str, _Key] = {}
        for entry in jwt_keys:
            private = ECAlgorithm(ECAlgorithm.SHA256).prepare_key(entry["private_key_pem"])
            if not isinstance(private, EllipticCurvePrivateKey):
                raise ValueError(f"JWT key {entry['kid']} is a public key; a private key signs")
            keys[entry["kid"]] = _Key(entry["kid"], private, private.public_key())
        if not keys:
            raise ValueError("no JWT signing key configured")
        self._keys, self._signing = keys, list(keys.values())[-1]

    def _reload_if_changed(self, min_interval: float) -> None:
        now = time.monotonic()
        if self._source is None or now - self._checked_at < min_interval:
            return
        self._checked_at = now
        try:
            mtime = self._source.stat().st_mtime
            if mtime != self._source_mtime:
                self._load(json.loads(self._source.read_text(encoding="utf-8"))["jwt"])
                self._source_mtime = mtime
                log.info("JWT keys reloaded; signing with %s", self._signing.kid)
        except (OSError, ValueError, KeyError):
            log.exception("could not reload the keys file; keeping the keys in use")

    @property
    def signing_kid(self) -> str:
        return self._signing.kid

    def issue(
        self,
        subject: str,
        *,
        scope: str,
        ttl: int,
        issued_at: datetime | None = None,
        jti: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Sign an access token; returns the token and its claims."""
        self._reload_if_changed(self.RELOAD_SECONDS)
        now = int((issued_at or datetime.now(UTC)).timestamp())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": jti or secrets.token_urlsafe(16),
            "scope": scope,
            **(extra or {}),
        }
        token = jwt.encode(
            claims,
            self._signing.private_key,
            algorithm=ALGORITHM,
            headers={"kid": self._signing.kid, "typ": ACCESS_TOKEN_TYPE},
        )
        return token, claims

    def verify(self, token: str) -> dict[str, Any]:
        """Return the claims of a valid access token or raise InvalidToken."""
        claims = self._verified(token)
        if claims["exp"] <= self.clock() - LEEWAY_SECONDS:
            raise InvalidToken("token_expired")
        return dict(claims)

    def _verify_signed(self, token: str) -> dict[str, Any]:
        """The full RFC 8725 check: header, key, signature and every registered claim."""
        header = read_header(token)
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("algorithm_not_allowed")
        if header.get("typ", "").lower() not in {ACCESS_TOKEN_TYPE, "application/at+jwt"}:
            raise InvalidToken("wrong_token_type")
        kid = header.get("kid", "")
        if kid not in self._keys:
            self._reload_if_changed(1.0)
        key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("unknown_key")
        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": _REQUIRED_CLAIMS, "strict_aud": True},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token_expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidToken("token_not_yet_valid") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("wrong_audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken("wrong_issuer") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken("missing_claim") from exc
        except jwt.InvalidTokenError as exc:
            raise InvalidToken("invalid_signature") from exc
        if not all(isinstance(claims.get(name), str) for name in ("sub", "scope", "jti")):
            raise InvalidToken("missing_claim")
        return claims

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public keys as a JSON Web Key Set, for third parties verifying our tokens."""
        keys = []
        for key in self._keys.values():
            jwk = json.loads(ECAlgorithm.to_jwk(key.public_key))
            keys.append({**jwk, "kid": key.kid, "use": "sig", "alg": ALGORITHM})
        return {"keys": keys}


def read_header(token: str) -> dict[str, str]:
    """The token's JOSE header, if it is exactly of the shape we issue (see the module's text).

    Parsed here rather than by PyJWT, whose header checks raise exceptions outside its
    DecodeError (a non-string `kid`), so an odd header could not reach the key lookup as a 500.
    """
    segments = token.split(".")
    if len(segments) != 3 or not all(segments[:2]):
        raise InvalidToken("malformed_token")
    try:
        header = json.loads(base64url_decode(segments[0].encode("ascii")))
    except (ValueError, UnicodeError, TypeError) as exc:  # binascii.Error is a ValueError
        raise InvalidToken("malformed_token") from exc
    if not isinstance(header, dict):
        raise InvalidToken("malformed_token")
    if not set(header) <= HEADER_MEMBERS or not all(isinstance(v, str) for v in header.values()):
        raise InvalidToken("invalid_token_header")
    return header
