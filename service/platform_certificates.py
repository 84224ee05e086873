"""Platform certificates Minifin downloaded in certificate mode, kept in the database by SN.

The gateway client (which imports nothing of Minifin) is given this store: a certificate one
process fetched after the platform rotated is then trusted by every API process and worker
without a restart. Only certificates that chained to the configured root bundle are put here,
and each is checked again when a process reads it. Reads and writes run on a connection of
their own, never in the caller's session, so a gateway call never holds the session's
transaction open (the transaction rule).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String, Text, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from config import ConfigError
from config.keys import KeyFormatError, load_private_key
from service.dbtypes import UTCDateTime, utcnow
from service.extensions import Model, db
from service.gateway.cert_mode import CertificateConfigError, CertificateFiles, certificate_mode

if TYPE_CHECKING:
    from config import Settings

_FILES = ("app_cert", "platform_cert", "platform_root_cert")


class PlatformCertificate(Model):
    """One platform certificate by its SN (certificates are public: nothing here is secret)."""

    __tablename__ = "platform_certificates"

    sn: Mapped[str] = mapped_column(String(64), primary_key=True)
    pem: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DatabaseCertificateStore:
    """`PlatformCertificateStore` over the `platform_certificates` table (needs an app context)."""

    def get(self, sn: str) -> str | None:
        with db.engine.connect() as connection:
            return connection.scalar(
                select(PlatformCertificate.pem).where(PlatformCertificate.sn == sn)
            )

    def put(self, sn: str, pem: str) -> None:
        try:
            with db.engine.begin() as connection:
                connection.execute(
                    insert(PlatformCertificate).values(sn=sn, pem=pem, fetched_at=utcnow())
                )
        except IntegrityError:
            pass  # another process kept it first: the same certificate

    def all(self) -> list[str]:
        with db.engine.connect() as connection:
            query = select(PlatformCertificate.pem).order_by(PlatformCertificate.fetched_at.desc())
            return list(connection.scalars(query))


def gateway_certificates(settings: Settings) -> CertificateFiles | None:
    """Certificate mode's files for the gateway client, kept certificates shared through the
    database; None in key mode (no certificate setting). Some but not all is refused, and so
    are files that do not fit (one line per problem).
    """
    given = {name: getattr(settings, name) for name in _FILES if getattr(settings, name)}
    if not given:
        return None
    missing = [f"MINIFIN_{name.upper()}" for name in _FILES if name not in given]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)}: needed in certificate mode (or _FILE), with the others set"
        )
    files = CertificateFiles(
        app_cert=given["app_cert"],
        platform_cert=given["platform_cert"],
        root_cert=given["platform_root_cert"],
        store=DatabaseCertificateStore(),
    )
    try:  # checked here too, so that the command line prints the lines, not a traceback
        certificate_mode(load_private_key(settings.app_private_key or ""), files)
    except (CertificateConfigError, KeyFormatError) as exc:
        raise ConfigError(str(exc)) from exc
    return files
