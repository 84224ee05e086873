"""The mock identity provider: a stand-in for the open gateway with its own app, store and key."""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify, request
from flask.json.provider import DefaultJSONProvider

from service.gateway.signing import generate_private_key, load_private_key, private_key_pem
from service.mock_idp.authorize_page import authorize_blueprint
from service.mock_idp.avatars import avatars_blueprint
from service.mock_idp.cashier_page import cashier_blueprint
from service.mock_idp.certify_page import certify_blueprint
from service.mock_idp.control import control_blueprint
from service.mock_idp.control_certifications import certifications_control_blueprint
from service.mock_idp.control_credit import credit_control_blueprint
from service.mock_idp.control_payments import payments_control_blueprint
from service.mock_idp.courier import NotificationCourier
from service.mock_idp.demo_users import load_demo_users
from service.mock_idp.freeze_page import freeze_blueprint
from service.mock_idp.gateway import gateway_blueprint
from service.mock_idp.phone_number import phone_number_blueprint
from service.mock_idp.runtime import COURIER_EXTENSION, PLATFORM_KEY_EXTENSION, STORE_EXTENSION
from service.mock_idp.store import STORE_FILENAME, MockStore

PLATFORM_KEY_FILENAME = "platform-key.pem"
CONTROL_PREFIX = "/_mock/"


def create_mock_app(
    data_dir: str | os.PathLike | None = None,
    *,
    platform_private_key: str | None = None,
    control_api: bool = True,
    seed_demo_users: bool = True,
) -> Flask:
    """Build the mock gateway app; `data_dir` keeps its store and (generated) platform key."""
    app = Flask(__name__)
    readable = DefaultJSONProvider(app)
    readable.ensure_ascii = False  # Chinese text as itself, as the platform sends it
    app.json = readable
    directory = Path(data_dir if data_dir is not None else tempfile.mkdtemp(prefix="minifin-mock-"))
    directory.mkdir(parents=True, exist_ok=True)
    app.extensions[PLATFORM_KEY_EXTENSION] = _platform_key(directory, platform_private_key)
    demo_users = load_demo_users() if seed_demo_users else []
    store = MockStore(directory / STORE_FILENAME, demo_users=demo_users)
    app.extensions[STORE_EXTENSION] = store
    app.extensions[COURIER_EXTENSION] = courier = NotificationCourier(store)
    courier.resume()
    if data_dir is None:
        weakref.finalize(app, _remove_temporary_store, store, directory)
    app.register_blueprint(gateway_blueprint)
    app.register_blueprint(authorize_blueprint)
    app.register_blueprint(avatars_blueprint)
    app.register_blueprint(cashier_blueprint)
    app.register_blueprint(certify_blueprint)
    app.register_blueprint(freeze_blueprint)
    if control_api:
        app.register_blueprint(control_blueprint)
        app.register_blueprint(payments_control_blueprint)
        app.register_blueprint(certifications_control_blueprint)
        app.register_blueprint(phone_number_blueprint)
        app.register_blueprint(credit_control_blueprint)
    _register_json_errors_for_control_paths(app)
    return app


def _remove_temporary_store(store: MockStore, directory: Path) -> None:
    """A temporary store lives as long as its app."""
    store.close()
    shutil.rmtree(directory, ignore_errors=True)


def _platform_key(directory: Path, given: str | None) -> rsa.RSAPrivateKey:
    """The given key, else the one kept in the data directory, else a new one written there."""
    if given:
        return load_private_key(given)
    path = directory / PLATFORM_KEY_FILENAME
    if path.exists():
        return load_private_key(path.read_text("utf-8"))
    key = generate_private_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(private_key_pem(key, dev=True))
    return key


def _register_json_errors_for_control_paths(app: Flask) -> None:
    """Unknown `/_mock/` routes (all of them when the control API is off) answer JSON, not HTML."""

    def not_found(error):
        if request.path.startswith(CONTROL_PREFIX) or request.path == CONTROL_PREFIX.rstrip("/"):
            return jsonify(error="not_found", detail=f"no control route {request.path}"), 404
        return error

    def not_allowed(error):
        if request.path.startswith(CONTROL_PREFIX):
            return jsonify(error="method_not_allowed", detail=f"{request.method} not allowed"), 405
        return error

    app.register_error_handler(404, not_found)
    app.register_error_handler(405, not_allowed)
