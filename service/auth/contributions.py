"""What auth adds to Minifin: the login, token and JWKS endpoints, and `minifin clients`.

Read by the composition root (service/bootstrap.py) only; it has no jobs, due work or
notifications.
"""

from __future__ import annotations

from service.auth.commands import clients
from service.auth.routes import blp, well_known
from service.contributions import Contributions

CONTRIBUTIONS = Contributions(
    name="auth",
    api_blueprints=(well_known, blp),
    cli_commands=(clients,),
)
