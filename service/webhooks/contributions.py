"""What webhooks add to Minifin: `GET /v1/events`, the webhook endpoints' API, the fan-out and
the deliveries every worker runs, `minifin webhooks`, and the delivery gauges.

Read by the composition root (service/bootstrap.py) only.
"""

from __future__ import annotations

from service.contributions import Contributions
from service.webhooks.commands import webhooks
from service.webhooks.delivery import DELIVERIES
from service.webhooks.fanout import FANOUT
from service.webhooks.metrics import WebhookCollector
from service.webhooks.routes import blp, events_blp

CONTRIBUTIONS = Contributions(
    name="webhooks",
    api_blueprints=(events_blp, blp),
    due_work=(FANOUT, DELIVERIES),
    cli_commands=(webhooks,),
    metrics=(WebhookCollector,),
)
