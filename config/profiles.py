"""Defaults per profile: `dev` for a newcomer's laptop, `test` for the suite, `production`.

Read from the declarations in `config.settings`; a default naming `{instance_dir}` is a file
kept in the instance directory, resolved when the settings are loaded.
"""

from __future__ import annotations

from config.declaration import PROFILES, declared
from config.settings import Settings

__all__ = ["PROFILES", "profile_defaults"]


def profile_defaults(profile: str) -> dict[str, str]:
    """The variables a profile gives a value when the environment does not, as text."""
    return {
        item.variable: value
        for item in declared(Settings)
        if (value := item.default_in(profile)) is not None
    }
