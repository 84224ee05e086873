"""Minifin settings: defaults, `MINIFIN_*` environment parsing, profiles and their validation."""

from config.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
