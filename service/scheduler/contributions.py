"""What the scheduler adds to Minifin: the outbox as due work every worker runs, its gauge, and
`minifin jobs`. The outbox's job kinds are the capabilities'.

Read by the composition root (service/bootstrap.py) only.
"""

from __future__ import annotations

from service.contributions import Contributions
from service.scheduler.commands import jobs
from service.scheduler.metrics import OutboxCollector
from service.scheduler.outbox import SOURCE

CONTRIBUTIONS = Contributions(
    name="scheduler",
    due_work=(SOURCE,),
    cli_commands=(jobs,),
    metrics=(OutboxCollector,),
)
