"""Minifin settings: defaults, `MINIFIN_*` environment parsing, profiles and their validation."""

from config.loading import load_settings
from config.settings import ConfigError, Settings

__all__ = ["ConfigError", "Settings", "load_settings"]
