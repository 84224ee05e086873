"""The composition root: every part of Minifin, listed in one place and joined once.

Each capability declares what it adds in its own `contributions.py` (blueprints, job kinds with
their handlers, due work, notification handlers, commands, gauges); this module lists them, and
`compose()` (service/contributions.py) joins them, refusing a job kind, notification type,
due-work source or command claimed twice. The app factory (service/app.py) builds its app from
the result, the worker runs its due work, and the `minifin` command adds its commands: nothing
registers itself by being imported, so this list is what every process runs.

The order is kept where it shows: the OpenAPI document's sections follow the blueprints' order,
and a worker runs its due work in this order (the outbox first).
"""

from __future__ import annotations

import functools

from service import health, metrics
from service.auth.contributions import CONTRIBUTIONS as AUTH
from service.contributions import Contributions, Wiring, compose
from service.credit.contributions import CONTRIBUTIONS as CREDIT
from service.events.contributions import CONTRIBUTIONS as EVENTS
from service.gifting.contributions import CONTRIBUTIONS as GIFTING
from service.identity.contributions import CONTRIBUTIONS as IDENTITY
from service.notifications.contributions import CONTRIBUTIONS as NOTIFICATIONS
from service.scheduler.contributions import CONTRIBUTIONS as SCHEDULER

# The API's own endpoints: probes (documented) and /metrics (operational, left out of the
# OpenAPI document).
CORE = Contributions(name="core", api_blueprints=(health.blp,), blueprints=(metrics.blp,))

CONTRIBUTIONS: tuple[Contributions, ...] = (
    CORE, SCHEDULER, AUTH, GIFTING, IDENTITY, CREDIT, NOTIFICATIONS, EVENTS,
)  # fmt: skip


@functools.cache
def default_wiring() -> Wiring:
    """Minifin's wiring: every contribution above, joined."""
    return compose(CONTRIBUTIONS)
