"""The app factory: create_app() is the only place a Minifin API app is built.

What the app serves and runs comes from the composition root (service/bootstrap.py): its
blueprints, its job and notification handler tables, its due work and its gauges. Tests may
compose an app with contributions of their own (a test job kind, a test notification type).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix

import service.models  # noqa: F401 (puts every table in db.metadata, for migrations)
from config import Settings, load_settings
from service import MIGRATIONS_DIR, access_log, bootstrap, errors, http, metrics
from service.auth.live_sessions import LiveSessions
from service.auth.scopes import CLIENT_SCOPES
from service.auth.tokens import TokenKeys
from service.components import Components
from service.contributions import Contributions, Wiring, compose
from service.db_sessions import engine_options
from service.extensions import api, db, limiter, migrate
from service.gateway.client import GatewayClient
from service.openapi import SECURITY_SCHEMES
from service.platform_certificates import gateway_certificates
from service.security.fields import BlindIndex, ReloadingFieldCipher
from service.security.keyfiles import read_keys


def create_app(
    environ: Mapping[str, str] | None = None,
    *,
    settings: Settings | None = None,
    contributions: Sequence[Contributions] | None = None,
):
    """Build the API from `MINIFIN_*` settings (the environment, optionally overridden), wired
    with Minifin's contributions (or the ones given)."""
    settings = settings or load_settings(environ)
    wiring = compose(tuple(contributions)) if contributions else bootstrap.default_wiring()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per gateway call is ours
    access_log.install_werkzeug_filter()  # `minifin dev` logs request lines through werkzeug
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    access_log.install(app)  # the `secret` route converter, before any route is added
    app.config.update(_flask_config(settings))
    answers = DefaultJSONProvider(app)
    answers.sort_keys = False  # keep the schemas' field order (token_type, then…)
    answers.ensure_ascii = False  # names and nicknames as UTF-8, not \u escapes
    app.json = answers
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    limiter.init_app(app)
    api.init_app(app, spec_kwargs={"components": {"securitySchemes": _security_schemes()}})
    app.extensions["minifin"] = _components(settings, wiring)

    _register_blueprints(app, wiring)
    metrics.install(app, wiring.metrics)
    access_log.learn_routes(app)
    http.install(app)
    errors.register_error_handlers(app)
    app.after_request(_no_store)
    return app


def _flask_config(settings: Settings) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": settings.database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(settings),
        "MAX_CONTENT_LENGTH": settings.max_body_bytes,
        "RATELIMIT_STORAGE_URI": settings.rate_limit_storage_uri,
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_ENABLED": True,
        "API_TITLE": "Minifin",
        "API_VERSION": "1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": settings.docs_assets_url,
    }


def _components(settings: Settings, wiring: Wiring) -> Components:
    keys = read_keys(settings.keys_file)
    certificates = gateway_certificates(settings)
    if not settings.app_private_key or not (settings.platform_public_key or certificates):
        raise RuntimeError(
            "MINIFIN_APP_PRIVATE_KEY and MINIFIN_PLATFORM_PUBLIC_KEY (or the certificate files) "
            "are needed: run `minifin dev` once, or set them (see README, Configuration)"
        )
    return Components(
        settings=settings,
        gateway=GatewayClient(
            settings.gateway_url,
            settings.app_id,
            settings.app_private_key,
            settings.platform_public_key,
            certificates=certificates,
            timeout=settings.gateway_timeout,
            connect_timeout=settings.gateway_connect_timeout,
            retries=settings.gateway_retries,
            retry_after=settings.gateway_retry_after,
            aes_key=settings.app_aes_key,
            aes_methods=settings.aes_methods,
        ),
        token_keys=TokenKeys(
            keys["jwt"],
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            source=settings.keys_file,
        ),
        keys_document=keys,
        live_sessions=LiveSessions(settings.session_check_seconds),
        field_cipher=ReloadingFieldCipher(keys, source=settings.keys_file),
        blind_index=BlindIndex.from_keys_document(keys),
        wiring=wiring,
    )


def _security_schemes() -> dict:
    schemes = {k: dict(v) for k, v in SECURITY_SCHEMES.items()}
    schemes["clientToken"]["flows"]["clientCredentials"]["scopes"] = dict(CLIENT_SCOPES)
    return schemes


def _register_blueprints(app: Flask, wiring: Wiring) -> None:
    for blueprint in wiring.api_blueprints:
        api.register_blueprint(blueprint)
    for plain in wiring.blueprints:  # operational or for browsers, not in the OpenAPI document
        app.register_blueprint(plain)


def _no_store(response: Response) -> Response:
    """API answers carry tokens and personal data: never cache them anywhere."""
    if request.path.startswith("/v1/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response
