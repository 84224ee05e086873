"""The certificates the mock issued to each app in certificate mode, kept by SN.

An app registered with `"key_mode": "cert"` gets a CA of its own (two RSA roots and an EC root),
a platform certificate whose key signs that app's responses and notifications, and an app
certificate for its public key. Nothing is ever deleted: a rotated platform certificate or a
re-issued app certificate stays downloadable by its SN (`alipay.open.app.alipaycert.download`),
as the platform serves every certificate it issued; only the newest of each role is current.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from service.gateway.certificates import cert_sn, load_certificate, root_cert_sn
from service.gateway.signing import load_private_key, private_key_pem
from service.mock_idp import certificate_authority
from service.mock_idp.store import MockStore
from service.mock_idp.store_tables import register_table

ROOT, EC_ROOT, PLATFORM, APP = "root", "ec_root", "platform", "app"
ROOT_NAMES = ("Mock Root CA R1", "Mock Root CA R2")

register_table(
    "app_certificates",
    """CREATE TABLE IF NOT EXISTS app_certificates (
        sn TEXT PRIMARY KEY, app_id TEXT NOT NULL, role TEXT NOT NULL, position INTEGER NOT NULL,
        pem TEXT NOT NULL, private_key_pem TEXT, current INTEGER NOT NULL,
        created_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS app_certificates_by_app ON app_certificates (app_id, role)",
)


@dataclass(frozen=True)
class CertificateSet:
    """What the console hands a merchant in certificate mode: three files and their SNs."""

    app_cert: str
    app_cert_sn: str
    platform_cert: str
    platform_cert_sn: str
    root_cert: str
    root_cert_sn: str

    def to_json(self) -> dict[str, str]:
        """The files and SNs as the control API shows them."""
        return {
            "app_cert": self.app_cert,
            "app_cert_sn": self.app_cert_sn,
            "alipay_cert": self.platform_cert,
            "alipay_cert_sn": self.platform_cert_sn,
            "alipay_root_cert": self.root_cert,
            "alipay_root_cert_sn": self.root_cert_sn,
        }


def _insert(
    db: sqlite3.Connection,
    app_id: str,
    role: str,
    issued: certificate_authority.Issued,
    position: int = 0,
) -> None:
    key = issued.key
    key_pem = private_key_pem(key) if isinstance(key, rsa.RSAPrivateKey) else None
    db.execute(
        "UPDATE app_certificates SET current = 0 WHERE app_id = ? AND role = ? AND position = ?",
        (app_id, role, position),
    )
    db.execute(
        "INSERT INTO app_certificates (sn, app_id, role, position, pem, private_key_pem, current,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
        (cert_sn(issued.certificate), app_id, role, position, issued.pem, key_pem, time.time()),
    )


def _current(db: sqlite3.Connection | MockStore, app_id: str, role: str) -> list[sqlite3.Row]:
    """The current certificates of a role, in a transaction's connection or a read of its own."""
    sql = (
        "SELECT * FROM app_certificates WHERE app_id = ? AND role = ? AND current = 1"
        " ORDER BY position"
    )
    if isinstance(db, MockStore):
        return db.query(sql, (app_id, role))
    return db.execute(sql, (app_id, role)).fetchall()


def _issuing_root(db: sqlite3.Connection, app_id: str) -> certificate_authority.Issued:
    """The RSA root the app's platform and app certificates are issued under (the second)."""
    row = _current(db, app_id, ROOT)[-1]
    return certificate_authority.Issued(
        load_certificate(row["pem"]), load_private_key(row["private_key_pem"])
    )


def provision(store: MockStore, app_id: str, app_key: rsa.RSAPublicKey) -> CertificateSet:
    """Give an app its CA and platform certificate (once), and an app certificate for its key.

    Registering again with the same key keeps every certificate; a new key (or a CSR's key)
    gets a new app certificate, and the old one stays downloadable.
    """
    with store.transaction() as db:
        if not _current(db, app_id, ROOT):
            for position, common_name in enumerate(ROOT_NAMES):
                _insert(db, app_id, ROOT, certificate_authority.rsa_root(common_name), position)
            _insert(db, app_id, EC_ROOT, certificate_authority.ec_root("Mock Root CA E1"))
            _insert(
                db,
                app_id,
                PLATFORM,
                certificate_authority.platform_certificate(_issuing_root(db, app_id), app_id),
            )
        issued_app = _current(db, app_id, APP)
        if not issued_app or not _certifies(issued_app[0]["pem"], app_key):
            root = _issuing_root(db, app_id)
            certificate = certificate_authority.issue(
                root, f"Mock App {app_id}", app_key, unit="Merchant App"
            )
            _insert(db, app_id, APP, certificate_authority.Issued(certificate))
    found = certificate_set(store, app_id)
    assert found is not None
    return found


def _certifies(pem: str, key: rsa.RSAPublicKey) -> bool:
    certified = load_certificate(pem).public_key()
    return isinstance(certified, rsa.RSAPublicKey) and (
        certified.public_numbers() == key.public_numbers()
    )


def _bundle(db: sqlite3.Connection, app_id: str) -> str:
    """Root R1, the EC root, root R2: the non-RSA one in the middle, as in the real bundle."""
    first, second = _current(db, app_id, ROOT)
    elliptic = _current(db, app_id, EC_ROOT)[0]
    return certificate_authority.bundle_pem(
        [load_certificate(row["pem"]) for row in (first, elliptic, second)]
    )


def certificate_set(store: MockStore, app_id: str) -> CertificateSet | None:
    """The app's current files and SNs, or None when it was never put in certificate mode."""
    with store.transaction() as db:
        if not _current(db, app_id, ROOT):
            return None
        app_row = _current(db, app_id, APP)[0]
        platform_row = _current(db, app_id, PLATFORM)[0]
        bundle = _bundle(db, app_id)
    return CertificateSet(
        app_cert=app_row["pem"],
        app_cert_sn=app_row["sn"],
        platform_cert=platform_row["pem"],
        platform_cert_sn=platform_row["sn"],
        root_cert=bundle,
        root_cert_sn=root_cert_sn(bundle),
    )


def rotate_platform_certificate(store: MockStore, app_id: str) -> CertificateSet | None:
    """Issue a new platform certificate (new key, new SN, same root) and sign with it from now."""
    with store.transaction() as db:
        if not _current(db, app_id, ROOT):
            return None
        _insert(
            db,
            app_id,
            PLATFORM,
            certificate_authority.platform_certificate(_issuing_root(db, app_id), app_id),
        )
    return certificate_set(store, app_id)


def platform_signer(
    db: sqlite3.Connection | MockStore, app_id: str
) -> tuple[rsa.RSAPrivateKey, str] | None:
    """The current platform certificate's key and SN while the app is in certificate mode.

    `db` is the store (for a read of its own) or the connection of an open transaction.
    """
    sql = (
        "SELECT c.sn, c.private_key_pem FROM app_certificates c JOIN apps a USING (app_id)"
        " WHERE c.app_id = ? AND c.role = ? AND c.current = 1 AND a.key_mode = 'cert'"
    )
    params = (app_id, PLATFORM)
    rows = (
        db.query(sql, params) if isinstance(db, MockStore) else db.execute(sql, params).fetchall()
    )
    if not rows:
        return None
    return load_private_key(rows[0]["private_key_pem"]), rows[0]["sn"]


def issued_pem(store: MockStore, sn: str) -> str | None:
    """The PEM text of a certificate the mock issued, by its SN."""
    row = store.query_one("SELECT pem FROM app_certificates WHERE sn = ?", (sn,))
    return row["pem"] if row else None
