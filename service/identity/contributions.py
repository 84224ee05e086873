"""What identity adds to Minifin: the verification endpoints and the job that settles a
verification whose outcome the platform has not told yet.

Read by the composition root (service/bootstrap.py) only.
"""

from __future__ import annotations

from service.contributions import Contributions
from service.identity.routes import blp
from service.identity.verifications import SETTLE_VERIFICATION, settle_verification

CONTRIBUTIONS = Contributions(
    name="identity",
    api_blueprints=(blp,),
    job_handlers=((SETTLE_VERIFICATION, settle_verification),),
)
