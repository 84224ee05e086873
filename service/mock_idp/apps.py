"""A merchant app as the mock knows it: its key and key mode, id mode, redirect URIs, privileges."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

from service.gateway.signing import load_public_key

ID_MODES = ("user_id", "open_id", "both")
KEY_MODES = ("key", "cert")  # plain public keys, or public-key certificates (reference §8)


@dataclass(frozen=True)
class AppRecord:
    """A merchant app registered with the mock: its key and what the platform lets it see."""

    app_id: str
    name: str
    public_key_pem: str
    privileged: bool = False
    id_mode: str = "both"
    redirect_uris: tuple[str, ...] = ()
    raw_score: bool = False  # granted the legacy raw Zhima score (zhima.credit.score.get)
    key_mode: str = "key"
    force_cert: bool = False  # in certificate mode, a request without app_cert_sn is refused
    aes_key: str | None = None  # content encryption (接口内容加密方式): base64 of 128 bits
    aes_methods: tuple[str, ...] = ("*",)  # the methods it must send encrypted; `*`: all
    phone_number: bool = False  # signed up for the phone-number product (my.getPhoneNumber)

    @cached_property
    def public_key(self):
        """The app's RSA public key, which verifies its requests."""
        return load_public_key(self.public_key_pem)

    def encrypts(self, method: str, params: dict[str, str]) -> bool:
        """Whether the gateway insists on an encrypted request: a key, a chosen method, a body."""
        if self.aes_key is None or not params.get("biz_content"):
            return False
        return "*" in self.aes_methods or method in self.aes_methods

    def to_json(self) -> dict[str, Any]:
        """The app as the control API shows it (the AES key too: it is the console's view)."""
        shown = asdict(self)
        shown["redirect_uris"] = list(self.redirect_uris)
        shown["aes_methods"] = list(self.aes_methods)
        return shown


def app_from_row(row: sqlite3.Row) -> AppRecord:
    """An app read back from its row in the `apps` table."""
    return AppRecord(
        app_id=row["app_id"],
        name=row["name"],
        public_key_pem=row["public_key_pem"],
        privileged=bool(row["privileged"]),
        id_mode=row["id_mode"],
        redirect_uris=tuple(json.loads(row["redirect_uris"])),
        raw_score=bool(row["raw_score"]),
        key_mode=row["key_mode"],
        force_cert=bool(row["force_cert"]),
        aes_key=row["aes_key"],
        aes_methods=tuple(json.loads(row["aes_methods"] or '["*"]')),
        phone_number=bool(row["phone_number"]),
    )
