"""What a capability adds to Minifin (`Contributions`), and all of them joined (`Wiring`).

Each capability declares its part in its own `contributions.py`; the composition root
(`service/bootstrap.py`) lists those declarations and `compose()` joins them into the one
`Wiring` an app carries: the API registers its blueprints from it, the outbox finds a job's
handler in it, the notifications endpoint a notification's handler, the worker its due work,
`/metrics` its collectors and the `minifin` command its commands. Nothing registers itself when
imported, so what a process runs is exactly what these lists say.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from service.registry import unique_table

if TYPE_CHECKING:
    import click
    from flask import Blueprint
    from prometheus_client.registry import Collector

    from service.scheduler.outbox import ClaimedJob
    from service.scheduler.worker import DueWorkSource

# A job handler performs one outbox job (raising to have it retried, see scheduler/outbox.py).
JobHandler = Callable[["ClaimedJob"], None]
# A notification handler applies a verified notification addressed to us and returns None, or
# returns why it refused it (its own state changes, e.g. parking a gift for review, still commit).
NotificationHandler = Callable[[Mapping[str, str]], "str | None"]


@dataclass(frozen=True)
class Contributions:
    """One capability's part: every field is a plain list, read only by `compose()`.

    `api_blueprints` are flask-smorest blueprints (in the OpenAPI document); `blueprints` plain
    Flask ones kept out of it (pages for browsers, `/metrics`). `metrics` are collector classes,
    instantiated once per app.
    """

    name: str
    api_blueprints: tuple[Any, ...] = ()
    blueprints: tuple[Blueprint, ...] = ()
    job_handlers: tuple[tuple[str, JobHandler], ...] = ()
    due_work: tuple[DueWorkSource, ...] = ()
    notification_handlers: tuple[tuple[str, NotificationHandler], ...] = ()
    cli_commands: tuple[click.Command, ...] = ()
    metrics: tuple[Callable[[], Collector], ...] = ()


@dataclass(frozen=True)
class Wiring:
    """Every capability's contributions joined, in the order the capabilities are listed."""

    api_blueprints: tuple[Any, ...]
    blueprints: tuple[Blueprint, ...]
    job_handlers: Mapping[str, JobHandler]
    due_work: Mapping[str, DueWorkSource]
    notification_handlers: Mapping[str, NotificationHandler]
    cli_commands: tuple[click.Command, ...]
    metrics: tuple[Callable[[], Collector], ...]


def compose(parts: tuple[Contributions, ...]) -> Wiring:
    """Join contributions; a job kind, notification type, due-work source, command or
    capability claimed twice is a RuntimeError, so the app refuses to start."""
    unique_table("capability", ((part.name, part) for part in parts))
    commands = unique_table(
        "command", ((command.name or "", command) for p in parts for command in p.cli_commands)
    )
    return Wiring(
        api_blueprints=tuple(b for p in parts for b in p.api_blueprints),
        blueprints=tuple(b for p in parts for b in p.blueprints),
        job_handlers=unique_table("job kind", (kh for p in parts for kh in p.job_handlers)),
        due_work=unique_table(
            "due-work source", ((s.name, s) for p in parts for s in p.due_work)
        ),
        notification_handlers=unique_table(
            "notification type", (th for p in parts for th in p.notification_handlers)
        ),
        cli_commands=tuple(commands.values()),
        metrics=tuple(m for p in parts for m in p.metrics),
    )
