"""`minifin deposits review`: deposits an operator must look at (no personal data shown)."""

from __future__ import annotations

import click
from flask.cli import AppGroup


@click.group(cls=AppGroup)
def deposits() -> None:
    """Credit deposits: list those an operator must review."""


@deposits.command("review")
@click.option("--limit", default=100, show_default=True)
def deposits_review(limit: int) -> None:
    """Deposits whose platform amounts do not match the ledger (no personal data shown)."""
    from service.credit.review import needing_review

    rows = needing_review(limit)
    for deposit in rows:
        click.echo(
            f"{deposit.id}  {deposit.status:<13} {deposit.problem or '':<19} "
            f"{deposit.amount_fen:>10} fen  {deposit.problem_detail or ''}"
        )
    click.echo(f"{len(rows)} deposit(s) need review")
