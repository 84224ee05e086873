"""`minifin refunds` and `minifin gifts`: the gift queues an operator must look at (refunds the
platform no longer takes, gifts in review). None shows personal data."""

from __future__ import annotations

import click
from flask.cli import AppGroup


@click.group(cls=AppGroup)
def refunds() -> None:
    """Gift refunds the platform refused after the refund period, for an operator to make."""


@refunds.command("list")
@click.option("--limit", default=100, show_default=True)
def refunds_list(limit: int) -> None:
    """Show refunds awaiting an operator, oldest first (amounts in yuan)."""
    from service.gateway.money import fen_to_yuan
    from service.gifting.operator_queue import refunds_awaiting_operator

    rows = refunds_awaiting_operator(limit)
    for row in rows:
        click.echo(
            f"{row.gift_id}  trade {row.trade_no or '-'}  refund {row.out_request_no}  "
            f"¥{fen_to_yuan(row.amount_fen)}  {row.refusal}  queued {row.queued_at:%Y-%m-%d %H:%M}Z"
            f"  ({row.reason})"
        )
    click.echo(f"{len(rows)} refund(s) awaiting an operator")


@click.group(cls=AppGroup)
def gifts() -> None:
    """Gifts an operator must look at."""


@gifts.command("review")
@click.option("--limit", default=100, show_default=True)
def gifts_review(limit: int) -> None:
    """Show gifts parked in needs_review (a payment that did not match), oldest first."""
    from service.gateway.money import fen_to_yuan
    from service.gifting.operator_queue import gifts_in_review

    rows = gifts_in_review(limit)
    for gift in rows:
        click.echo(
            f"{gift.id}  {gift.review_reason}  trade {gift.trade_no or '-'}  "
            f"price ¥{fen_to_yuan(gift.amount_fen)}  created {gift.created_at:%Y-%m-%d %H:%M}Z"
        )
    click.echo(f"{len(rows)} gift(s) in review")
