"""`minifin jobs`: the operator's view of outbox jobs (list them by state, requeue dead ones)."""

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
