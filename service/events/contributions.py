"""What the event log adds to Minifin: pruning events past their retention, as due work every
worker runs. The events themselves are recorded by the capabilities' use cases (log.py).

Read by the composition root (service/bootstrap.py) only.
"""

from __future__ import annotations

from service.contributions import Contributions
from service.events.retention import EVENT_RETENTION

CONTRIBUTIONS = Contributions(name="events", due_work=(EVENT_RETENTION,))
