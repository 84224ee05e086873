"""`minifin webhooks`: the operator's view of endpoints, a test delivery, a redelivery."""

from __future__ import annotations

import click
from flask.cli import AppGroup


@click.group(cls=AppGroup)
def webhooks() -> None:
    """Webhook endpoints: list them, send one a test delivery, send a delivery again."""


@webhooks.command("list")
def webhooks_list() -> None:
    """Every endpoint with its state and its pending and failed deliveries."""
    from service.webhooks.endpoints import endpoint_summaries

    rows = endpoint_summaries()
    for row in rows:
        state = "enabled" if row.enabled else f"disabled {row.disabled_at:%Y-%m-%d %H:%M}Z"
        failing = f" failing since {row.failing_since:%Y-%m-%d %H:%M}Z" if row.failing_since else ""
        click.echo(
            f"{row.id}  {state}{failing}  pending {row.pending}  failed {row.failed}  {row.url}"
        )
    click.echo(f"{len(rows)} endpoint(s)")


@webhooks.command("test")
@click.argument("endpoint_id")
def webhooks_test(endpoint_id: str) -> None:
    """Send the endpoint a signed test delivery now and print what it answered."""
    from service.webhooks.trial import send_test

    outcome = send_test(endpoint_id)
    click.echo(f"{endpoint_id}: {outcome.summary} in {outcome.duration_ms} ms")
    if not outcome.succeeded:
        raise SystemExit(1)


@webhooks.command("redeliver")
@click.argument("delivery_ids", nargs=-1, required=True)
def webhooks_redeliver(delivery_ids: tuple[str, ...]) -> None:
    """Make deliveries due again now (one more attempt each)."""
    from service.webhooks.deliveries import redeliver

    for delivery_id in delivery_ids:
        redeliver(None, delivery_id)
    click.echo(f"{len(delivery_ids)} delivery(ies) queued again")
