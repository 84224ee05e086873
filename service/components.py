"""The per-app objects services need (settings, gateway client, token keys, the composed handler
tables), found via current_app.

They are built once in create_app() and kept in `app.extensions["minifin"]`, so services take no
Flask request objects and tests can build as many independent apps as they like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from collections.abc import Mapping

    from config import Settings
    from service.auth.live_sessions import LiveSessions
    from service.auth.tokens import TokenKeys
    from service.contributions import JobHandler, NotificationHandler, Wiring
    from service.gateway.client import GatewayClient
    from service.security.fields import BlindIndex, ReloadingFieldCipher


@dataclass
class Components:
    settings: Settings
    gateway: GatewayClient
    token_keys: TokenKeys
    keys_document: dict
    live_sessions: LiveSessions
    field_cipher: ReloadingFieldCipher
    blind_index: BlindIndex
    wiring: Wiring  # what the app was composed with (service/bootstrap.py)


def components() -> Components:
    return current_app.extensions["minifin"]


def settings() -> Settings:
    return components().settings


def gateway() -> GatewayClient:
    return components().gateway


def token_keys() -> TokenKeys:
    return components().token_keys


def blind_index() -> BlindIndex:
    return components().blind_index


def field_cipher() -> ReloadingFieldCipher:
    return components().field_cipher


def job_handlers() -> Mapping[str, JobHandler]:
    """The app's job kind → handler table."""
    return components().wiring.job_handlers


def notification_handlers() -> Mapping[str, NotificationHandler]:
    """The app's notification type → handler table."""
    return components().wiring.notification_handlers
