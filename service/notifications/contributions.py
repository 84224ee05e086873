"""What notifications adds to Minifin: the endpoint the platform posts to, and the gauge of
refused and unhandled notifications. The handlers themselves are the other capabilities'.

Read by the composition root (service/bootstrap.py) only.
"""

from __future__ import annotations

from service.contributions import Contributions
from service.notifications.metrics import (
    RefusedNotificationsCollector,
    UnhandledNotificationsCollector,
)
from service.notifications.routes import blp

CONTRIBUTIONS = Contributions(
    name="notifications",
    api_blueprints=(blp,),
    metrics=(RefusedNotificationsCollector, UnhandledNotificationsCollector),
)
