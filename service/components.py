"""The per-app objects services need (settings, gateway client, token keys), found via current_app.

They are built once in create_app() and kept in `app.extensions["minifin"]`, so services take no
Flask request objects and tests can build as many independent apps as they like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from config import Settings
    from service.auth.live_sessions import LiveSessions
    from service.auth.tokens import TokenKeys
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
