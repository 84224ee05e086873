"""What credit adds to Minifin: its endpoints, the jobs that finish or reconcile a deposit's
operations, the sweep that expires consents, the freeze and unfreeze notifications,
`minifin deposits` and the review gauge.

Read by the composition root (service/bootstrap.py) only.
"""

from __future__ import annotations

from service.contributions import Contributions
from service.credit.commands import deposits
from service.credit.consent_expiry import EXPIRED_CONSENTS
from service.credit.deposits import RECONCILE_DEPOSIT
from service.credit.fund_events import on_freeze, on_unfreeze, reconcile_deposit
from service.credit.holds import RESUME_OPERATION
from service.credit.operations import RECORD_CHARGE_SPLIT, record_charge_split, resume_operation
from service.credit.review import DepositReviewCollector
from service.credit.routes import blp
from service.gateway.notify_types import FUND_AUTH_FREEZE, FUND_AUTH_UNFREEZE

CONTRIBUTIONS = Contributions(
    name="credit",
    api_blueprints=(blp,),
    job_handlers=(
        (RESUME_OPERATION, resume_operation),
        (RECORD_CHARGE_SPLIT, record_charge_split),
        (RECONCILE_DEPOSIT, reconcile_deposit),
    ),
    notification_handlers=((FUND_AUTH_FREEZE, on_freeze), (FUND_AUTH_UNFREEZE, on_unfreeze)),
    due_work=(EXPIRED_CONSENTS,),
    cli_commands=(deposits,),
    metrics=(DepositReviewCollector,),
)
