"""`minifin clients create`: merchant clients (back offices, store tills) and their secrets."""

from __future__ import annotations

import click
from flask.cli import AppGroup


@click.group(cls=AppGroup)
def clients() -> None:
    """Merchant clients (back offices, store tills) using the client-credentials grant."""


@clients.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    help="Repeat for each scope, e.g. --scope vouchers:redeem.",
)
def clients_create(name: str, scopes: tuple[str, ...]) -> None:
    """Create a client and print its id and secret (shown once)."""
    from service.auth.clients import create_client
    from service.errors import DomainError

    try:
        client, secret = create_client(name, list(scopes))
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(
        f"client_id:     {client.id}\nclient_secret: {secret}\nscopes:        "
        f"{client.scopes}\nThe secret is not stored; keep it now."
    )
