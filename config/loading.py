"""Read `MINIFIN_*` variables into one validated, immutable Settings object.

Validation happens once, at start, so a misconfigured process stops with a single line naming the
variable instead of failing on the first request that needs it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from marshmallow import ValidationError

from config.declaration import INSTANCE_DIR, KEY, declared
from config.profiles import PROFILES, profile_defaults
from config.schema import settings_schema
from config.settings import ConfigError, Settings
from config.validation import validate

_PROFILE = next(item for item in declared(Settings) if item.attribute == "profile")
_INSTANCE_DIR = "MINIFIN_INSTANCE_DIR"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from the environment (or a mapping overriding it) and validate them."""
    env = dict(os.environ if environ is None else {**os.environ, **environ})
    profile = env.get(_PROFILE.variable, _PROFILE.default_in(PROFILES[0]) or PROFILES[0])
    if profile not in PROFILES:
        allowed = ", ".join(PROFILES)
        raise ConfigError(f"{_PROFILE.variable}: {profile!r} is not one of {allowed}")
    given = _minifin_variables(env)
    defaults = profile_defaults(profile)
    instance_dir = Path(given.get(_INSTANCE_DIR) or defaults[_INSTANCE_DIR]).resolve()
    raw = {name: _in_instance_dir(value, instance_dir) for name, value in defaults.items()}
    raw.update(given)
    raw[_PROFILE.variable] = profile
    raw[_INSTANCE_DIR] = str(instance_dir)
    try:
        values = settings_schema().load(raw)
    except ValidationError as exc:
        variable, messages = next(iter(exc.normalized_messages().items()))
        message = messages[0] if isinstance(messages, list) else messages
        raise ConfigError(f"{variable}: {message}") from exc
    values["instance_dir"] = Path(values["instance_dir"])
    values["keys_file"] = Path(values["keys_file"])
    values["credit_purposes"] = tuple(values["credit_purposes"])
    values["app_aes_methods"] = tuple(values["app_aes_methods"])
    for item in declared(Settings):
        if item.declaration.form == KEY:
            default = item.default_in(profile)
            default_file = Path(_in_instance_dir(default, instance_dir)) if default else None
            values[item.attribute] = _key_value(env, item.variable, default_file)
    settings = Settings(**values, extra={k: v for k, v in env.items() if k.startswith("MINIFIN_")})
    validate(settings)
    return settings


def _in_instance_dir(value: str, instance_dir: Path) -> str:
    """A default naming `{instance_dir}/…` as that file in the resolved instance directory."""
    before, marker, file_name = value.partition(INSTANCE_DIR + "/")
    return before + str(instance_dir / file_name) if marker else value


def _read_file(path: str, variable: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{variable}: cannot read {path}: {exc.strerror}") from exc


def _key_value(env: Mapping[str, str], name: str, default_file: Path | None) -> str | None:
    """A key given inline (`NAME`), as a file (`NAME_FILE`), or found at its default path."""
    if env.get(name):
        return env[name]
    if env.get(f"{name}_FILE"):
        return _read_file(env[f"{name}_FILE"], f"{name}_FILE")
    if default_file is not None and default_file.exists():
        return default_file.read_text(encoding="utf-8")
    return None


def _minifin_variables(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith("MINIFIN_") and v != ""}
