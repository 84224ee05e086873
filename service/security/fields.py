"""Field encryption and blind indexes for personal data and secrets kept in rows.

Values are sealed with AES-256-GCM under a key ring: each ciphertext names the key id that sealed
it, so keys can be rotated while old rows stay readable, and the owner's id is bound in as
associated data, so a ciphertext copied onto another owner's row does not decrypt. Lookups use an
HMAC-SHA256 blind index with its own key, so equal values can be found without decrypting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)
FORMAT = "v1"
NONCE_BYTES = 12


class FieldDecryptionError(ValueError):
    """A sealed value that does not open: wrong owner, unknown key, or tampered."""


class FieldCipher:
    """Seals and opens field values; the active key seals, every key in the ring opens."""

    def __init__(self, keys: Mapping[str, bytes], active: str):
        if active not in keys:
            raise ValueError(f"the active field key {active!r} is not in the ring")
        if any(len(key) != 32 for key in keys.values()):
            raise ValueError("field keys must be 32 bytes (AES-256)")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.active = active

    @classmethod
    def from_keys_document(cls, document: Mapping[str, Any]) -> FieldCipher:
        fields = document["fields"]
        return cls({kid: base64.b64decode(key) for kid, key in fields["keys"].items()},
                   fields["active"])  # fmt: skip

    def seal(self, plaintext: str, *, owner: str) -> str:
        """`v1.<key id>.<base64 nonce+ciphertext>`, bound to `owner`."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.active].encrypt(nonce, plaintext.encode("utf-8"), owner.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{FORMAT}.{self.active}.{body}"

    def open(self, token: str, *, owner: str) -> str:
        """The plaintext of a sealed value, if it was sealed for this owner by a known key."""
        try:
            version, kid, body = token.split(".", 2)
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            if version != FORMAT or kid not in self._keys:
                raise FieldDecryptionError("unknown format or key id")
            plain = self._keys[kid].decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], owner.encode())
        except (ValueError, InvalidTag) as exc:
            raise FieldDecryptionError("the value does not open for this owner") from exc
        return plain.decode("utf-8")

    def sealed_with_old_key(self, token: str) -> bool:
        """Whether a value should be re-sealed under the active key (after a rotation)."""
        return token.split(".", 2)[1:2] != [self.active]

    def prefix(self) -> str:
        """What every value sealed under the active key starts with (to find the others in SQL)."""
        return f"{FORMAT}.{self.active}."


class ReloadingFieldCipher:
    """A FieldCipher that follows the keys file, so `minifin keys rotate --fields` needs no restart.

    A value sealed under a key this process has not loaded yet (another process rotated) makes it
    reload the ring at once; otherwise the file is checked every RELOAD_SECONDS, so new values are
    soon sealed under the newest key.
    """

    RELOAD_SECONDS = 30.0
    RETRY_UNKNOWN_KEY_SECONDS = 1.0

    def __init__(self, document: Mapping[str, Any], source: Path | None = None):
        self._cipher = FieldCipher.from_keys_document(document)
        self._source = source
        self._mtime = source.stat().st_mtime if source else 0.0
        self._checked_at = time.monotonic()
        self._forced_at = float("-inf")  # last reload forced by a value under an unknown key
        self._lock = threading.Lock()

    @property
    def active(self) -> str:
        return self._cipher.active

    def seal(self, plaintext: str, *, owner: str) -> str:
        self._reload_if_changed(self.RELOAD_SECONDS)
        return self._cipher.seal(plaintext, owner=owner)

    def open(self, token: str, *, owner: str) -> str:
        try:
            return self._cipher.open(token, owner=owner)
        except FieldDecryptionError:
            now = time.monotonic()
            if now - self._forced_at < self.RETRY_UNKNOWN_KEY_SECONDS:
                raise
            self._forced_at, self._checked_at = now, float("-inf")
            if not self._reload_if_changed(0):
                raise
            return self._cipher.open(token, owner=owner)

    def sealed_with_old_key(self, token: str) -> bool:
        return self._cipher.sealed_with_old_key(token)

    def _reload_if_changed(self, min_interval: float) -> bool:
        """Reload when the file changed (checked at most every `min_interval` s); True if so."""
        now = time.monotonic()
        if self._source is None or now - self._checked_at < min_interval:
            return False
        with self._lock:
            self._checked_at = now
            try:
                mtime = self._source.stat().st_mtime
                if mtime == self._mtime:
                    return False
                document = json.loads(self._source.read_text(encoding="utf-8"))
                self._cipher, self._mtime = FieldCipher.from_keys_document(document), mtime
            except (OSError, ValueError, KeyError):
                log.exception("could not reload the field keys; keeping the keys in use")
                return False
        log.info("field keys reloaded; sealing with %s", self._cipher.active)
        return True


class BlindIndex:
    """HMAC-SHA256 of a value under a purpose, for equality lookups without decryption."""

    def __init__(self, key: bytes):
        self._key = key

    @classmethod
    def from_keys_document(cls, document: Mapping[str, Any]) -> BlindIndex:
        return cls(base64.b64decode(document["blind_index_key"]))

    def digest(self, purpose: str, value: str) -> str:
        """Different purposes give unrelated digests for the same value."""
        message = f"{purpose}\x00{value}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
