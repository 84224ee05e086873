"""The keys file: JWT signing keys, field-encryption keys, the blind-index key and the token secret.

One JSON file (mode 0600) holds every secret Minifin generates for itself, so an operator backs up,
mounts and rotates one thing. Keys made by `minifin dev` carry `"dev": true`, which the production
profile refuses.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


class KeysFileError(RuntimeError):
    """The keys file is missing or malformed."""


def _b64_secret(n_bytes: int = 32) -> str:
    return base64.b64encode(secrets.token_bytes(n_bytes)).decode("ascii")


def new_jwt_key() -> dict[str, str]:
    """A fresh P-256 key for ES256, with a key id that sorts by creation time."""
    now = datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return {
        "kid": f"{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}",
        "created_at": now.isoformat(),
        "private_key_pem": pem,
    }


def new_keys_document(*, dev: bool) -> dict[str, Any]:
    """Everything a fresh installation needs."""
    return {
        "dev": dev,
        "jwt": [new_jwt_key()],
        "fields": {"active": "f1", "keys": {"f1": _b64_secret()}},
        "blind_index_key": _b64_secret(),
        "token_secret": _b64_secret(),
    }


def read_keys(path: Path) -> dict[str, Any]:
    """Load and sanity-check the keys file."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise KeysFileError(
            f"{path} does not exist: run `minifin keys generate` (or `minifin dev`)"
        ) from exc
    except (OSError, ValueError) as exc:
        raise KeysFileError(f"{path} is not a readable JSON keys file") from exc
    for section in ("jwt", "fields", "blind_index_key", "token_secret"):
        if not document.get(section):
            raise KeysFileError(f"{path} has no {section!r} section")
    return document


def write_keys(path: Path, document: dict[str, Any]) -> None:
    """Write atomically with owner-only permissions, so a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keys-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def rotate_jwt_keys(document: dict[str, Any], *, retired_before: datetime) -> dict[str, Any]:
    """Add a new signing key, dropping keys that stopped signing before `retired_before`.

    A key stops signing when its successor is created; once every token it signed has expired
    (callers pass now minus the longest token lifetime) nobody needs it to verify anything.
    """
    keys = document["jwt"]
    still_needed = [
        key
        for key, successor in itertools.pairwise(keys)
        if datetime.fromisoformat(successor["created_at"]) > retired_before
    ]
    return {**document, "jwt": [*still_needed, keys[-1], new_jwt_key()]}


def rotate_field_keys(document: dict[str, Any]) -> dict[str, Any]:
    """Add a new field-encryption key and make it the one that seals.

    Old keys stay in the ring: values sealed under them still open, until `minifin keys rotate
    --fields` has re-sealed them all.
    """
    fields = document["fields"]
    numbers = [int(kid[1:]) for kid in fields["keys"] if kid[:1] == "f" and kid[1:].isdigit()]
    kid = f"f{max(numbers, default=0) + 1}"
    return {**document, "fields": {"active": kid, "keys": {**fields["keys"], kid: _b64_secret()}}}
