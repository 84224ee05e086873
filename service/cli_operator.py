"""The operator's commands: outbox jobs, and the queues of money an operator must look at
(deposits and gifts in review, refunds the platform no longer takes). None shows personal data."""

from __future__ import annotations

import click
from flask.cli import AppGroup


@click.group(cls=AppGroup)
def jobs() -> None:
    """Outbox jobs: list them by state, requeue dead ones."""


@jobs.command("list")
@click.option(
    "--status",
    type=click.Choice(["pending", "running", "done", "dead"]),
    default="dead",
    show_default=True,
)
@click.option("--limit", default=100, show_default=True)
def jobs_list(status: str, limit: int) -> None:
    """Show jobs in one state, oldest first, with their last error."""
    from service.scheduler.outbox import list_jobs

    rows = list_jobs(status, limit)
    for job in rows:
        click.echo(
            f"{job.id:>8}  {job.kind:<40} attempts {job.attempts}/{job.max_attempts}  "
            f"run_at {job.run_at:%Y-%m-%d %H:%M:%S}Z  {job.last_error or ''}"
        )
    click.echo(f"{len(rows)} {status} job(s)")


@jobs.command("requeue")
@click.argument("job_ids", nargs=-1, type=int)
@click.option("--all-dead", is_flag=True, help="Requeue every dead job.")
def jobs_requeue(job_ids: tuple[int, ...], all_dead: bool) -> None:
    """Give dead jobs a fresh set of attempts, due now."""
    from service.scheduler.outbox import requeue_dead

    if not job_ids and not all_dead:
        raise click.UsageError("name job ids, or pass --all-dead")
    click.echo(f"requeued {requeue_dead(list(job_ids) or None)} job(s)")


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


OPERATOR_GROUPS = (jobs, deposits, refunds, gifts)
