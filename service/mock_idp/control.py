"""`/_mock/…`: the JSON control API that tests and developers use to drive the mock at run time."""

from __future__ import annotations

import base64
import re
import secrets
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Blueprint, Response, jsonify, request

from service.gateway import content_encryption
from service.gateway.signing import (
    KeyFormatError,
    load_public_key,
    public_key_base64,
    public_key_pem,
)
from service.mock_idp import faults
from service.mock_idp.app_certificates import (
    certificate_set,
    provision,
    rotate_platform_certificate,
)
from service.mock_idp.apps import ID_MODES, KEY_MODES, AppRecord
from service.mock_idp.authorize_page import is_web_url
from service.mock_idp.certificate_authority import public_key_of_csr
from service.mock_idp.demo_users import UserInvalid, validated_user
from service.mock_idp.grants import issue_auth_code, parse_scopes
from service.mock_idp.methods import METHODS, PAGE_METHODS
from service.mock_idp.runtime import current_platform_key, current_store
from service.mock_idp.store import DEFAULT_SETTINGS

control_blueprint = Blueprint("mock_control", __name__, url_prefix="/_mock")
_APP_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class ControlError(Exception):
    """A refused control request, answered as `{"error", "detail"}` with a 4xx status."""

    def __init__(self, status: int, error: str, detail: str):
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


@control_blueprint.errorhandler(ControlError)
def _control_error(error: ControlError) -> tuple[Response, int]:
    return jsonify(error=error.error, detail=error.detail), error.status


def json_object() -> dict[str, Any]:
    """The request's JSON object body, or a 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ControlError(400, "invalid_json", "the body must be a JSON object")
    return body


@control_blueprint.post("/apps")
def register_app() -> tuple[Response, int]:
    """Register or update an app: its public key and what the platform lets it see."""
    body = json_object()
    app_id = body.get("app_id")
    if not isinstance(app_id, str) or not _APP_ID_PATTERN.match(app_id):
        raise ControlError(400, "invalid_app_id", "app_id must be 1-64 letters, digits, _ . -")
    key = _registered_key(body)
    store = current_store()
    existing = store.get_app(app_id) or AppRecord(app_id, app_id, "")
    app = AppRecord(
        app_id=app_id,
        name=_typed(body, "name", str, existing.name),
        public_key_pem=public_key_pem(key),
        privileged=_typed(body, "privileged", bool, existing.privileged),
        id_mode=_typed(body, "id_mode", str, existing.id_mode),
        redirect_uris=tuple(_typed(body, "redirect_uris", list, list(existing.redirect_uris))),
        raw_score=_typed(body, "raw_score", bool, existing.raw_score),
        key_mode=_typed(body, "key_mode", str, existing.key_mode),
        force_cert=_typed(body, "force_cert", bool, existing.force_cert),
        aes_key=_aes_key(body, existing.aes_key),
        aes_methods=tuple(_typed(body, "aes_methods", list, list(existing.aes_methods))),
        phone_number=_typed(body, "phone_number", bool, existing.phone_number),
    )
    if app.key_mode not in KEY_MODES:
        raise ControlError(400, "invalid_key_mode", f"key_mode must be one of {list(KEY_MODES)}")
    if not all(isinstance(method, str) for method in app.aes_methods):
        raise ControlError(400, "invalid_aes_methods", "aes_methods must be a list of names")
    if app.id_mode not in ID_MODES:
        raise ControlError(400, "invalid_id_mode", f"id_mode must be one of {list(ID_MODES)}")
    for uri in app.redirect_uris:
        if not is_web_url(uri):
            raise ControlError(400, "invalid_redirect_uris", f"not an http(s) URL: {uri!r}")
    created = store.save_app(app)
    if app.key_mode == "cert":
        provision(store, app.app_id, key)
    return jsonify(_app_json(app)), 201 if created else 200


def _registered_key(body: dict[str, Any]) -> rsa.RSAPublicKey:
    """The app's public key: `public_key` as given, or the key a posted `csr` asks to certify."""
    if body.get("csr") is not None:
        try:
            return public_key_of_csr(str(body["csr"]))
        except ValueError as exc:
            raise ControlError(400, "invalid_csr", f"csr: {exc}") from None
    try:
        return load_public_key(body.get("public_key") or "")
    except (KeyFormatError, TypeError, UnicodeError) as exc:
        raise ControlError(400, "invalid_public_key", f"public_key: {exc}") from None


def _app_json(app: AppRecord) -> dict[str, Any]:
    """The app, and in certificate mode the three files the console hands out, with their SNs."""
    shown = app.to_json()
    issued = certificate_set(current_store(), app.app_id) if app.key_mode == "cert" else None
    if issued is not None:
        shown["certificates"] = issued.to_json()
    return shown


def _aes_key(body: dict[str, Any], default: str | None) -> str | None:
    """`aes_key`: base64 of 128 bits, `true` for a new one, `false` to drop it; unset keeps it."""
    value = body.get("aes_key")
    if value is None:
        return default
    if value is True:
        return base64.b64encode(secrets.token_bytes(content_encryption.KEY_BYTES)).decode()
    if value is False:
        return None
    try:
        content_encryption.load_key(value if isinstance(value, str) else "")
    except content_encryption.ContentKeyError as exc:
        raise ControlError(400, "invalid_aes_key", f"aes_key: {exc}") from None
    return str(value).strip()


def _typed(body: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise ControlError(400, f"invalid_{name}", f"{name} must be a {kind.__name__}")
    return value


@control_blueprint.get("/apps")
def list_apps() -> Response:
    """Every registered app."""
    return jsonify(apps=[_app_json(app) for app in current_store().list_apps()])


@control_blueprint.get("/apps/<app_id>")
def show_app(app_id: str) -> Response:
    """One registered app."""
    app = current_store().get_app(app_id)
    if app is None:
        raise ControlError(404, "app_not_found", f"no app {app_id!r} is registered")
    return jsonify(_app_json(app))


@control_blueprint.post("/platform-cert/rotate")
def rotate_platform_cert() -> Response:
    """Issue a new platform certificate for an app in certificate mode and sign with it now.

    The new certificate has a new key and SN under the same root; the old one stays
    downloadable. Body: `{"app_id"}`.
    """
    app = current_store().get_app(json_object().get("app_id"))
    if app is None or app.key_mode != "cert":
        raise ControlError(400, "not_in_cert_mode", "app_id is no app in certificate mode")
    issued = rotate_platform_certificate(current_store(), app.app_id)
    assert issued is not None, "an app in certificate mode was provisioned at registration"
    return jsonify(issued.to_json())


@control_blueprint.get("/platform-key")
def platform_key() -> Response:
    """The public half of the key that signs responses and notifications."""
    key = current_platform_key()
    return jsonify(public_key_pem=public_key_pem(key), public_key_base64=public_key_base64(key))


@control_blueprint.post("/users")
def create_user() -> tuple[Response, int]:
    """Add a user (user_id generated when absent); the profile is validated."""
    try:
        user = validated_user(json_object())
    except UserInvalid as exc:
        raise ControlError(400, "invalid_user", str(exc)) from None
    if not current_store().add_user(user):
        raise ControlError(409, "user_exists", f"user {user['user_id']} already exists")
    return jsonify(user), 201


@control_blueprint.get("/users")
def list_users() -> Response:
    """Every user, demo users first."""
    return jsonify(users=current_store().list_users())


@control_blueprint.get("/users/<user_id>")
def show_user(user_id: str) -> Response:
    """One user's full profile."""
    user = current_store().get_user(user_id)
    if user is None:
        raise ControlError(404, "user_not_found", f"no user {user_id!r}")
    return jsonify(user)


@control_blueprint.post("/auth-codes")
def create_auth_code() -> tuple[Response, int]:
    """What `my.getAuthCode` returns inside the super-app: a code for one app, user and scopes."""
    body = json_object()
    store = current_store()
    if store.get_app(body.get("app_id")) is None:
        raise ControlError(400, "unknown_app", "app_id is not registered")
    if store.get_user(body.get("user_id")) is None:
        raise ControlError(400, "unknown_user", "user_id is not a known user")
    try:
        scopes = parse_scopes(body.get("scopes", ["auth_base"]))
    except ValueError as exc:
        raise ControlError(400, "invalid_scopes", str(exc)) from None
    code = issue_auth_code(store, body["app_id"], body["user_id"], scopes)
    return jsonify(auth_code=code, expires_in=store.settings()["auth_code_ttl"]), 201


@control_blueprint.post("/faults")
def add_fault() -> tuple[Response, int]:
    """Inject a fault into one gateway method (or `*`), for `times` calls or until cleared."""
    try:
        fault = faults.validated_fault(json_object(), {*METHODS, *PAGE_METHODS})
    except faults.FaultInvalid as exc:
        raise ControlError(400, "invalid_fault", str(exc)) from None
    return jsonify(faults.add_fault(current_store(), fault).to_json()), 201


@control_blueprint.post("/faults/<int:fault_id>/resume")
def resume_fault(fault_id: int) -> Response:
    """Let the call a `pause` fault is holding act now."""
    faults.resume(fault_id)
    return jsonify(resumed=fault_id)


@control_blueprint.get("/faults")
def list_faults() -> Response:
    """The faults still active."""
    return jsonify(faults=[fault.to_json() for fault in faults.list_faults(current_store())])


@control_blueprint.delete("/faults")
def clear_faults() -> Response:
    """Remove every fault."""
    return jsonify(cleared=faults.clear_faults(current_store()))


@control_blueprint.get("/calls")
def list_calls() -> Response:
    """The most recent gateway calls (method, app_id, time, result code), oldest first."""
    return jsonify(calls=current_store().list_calls(request.args.get("method")))


@control_blueprint.get("/settings")
def show_settings() -> Response:
    """Lifetimes of codes and tokens, the optional timestamp skew check, the call-log size."""
    return jsonify(current_store().settings())


@control_blueprint.post("/settings")
def change_settings() -> Response:
    """Change settings at run time (reset restores the defaults)."""
    changes = json_object()
    for name, value in changes.items():
        if name not in DEFAULT_SETTINGS:
            raise ControlError(400, "unknown_setting", f"settings are {sorted(DEFAULT_SETTINGS)}")
        optional = name == "timestamp_skew_seconds" and value is None
        number = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
        if not (optional or number) or (name == "calls_kept" and not value):
            raise ControlError(400, "invalid_setting", f"{name} must be a non-negative number")
    return jsonify(current_store().update_settings(changes))


@control_blueprint.post("/reset")
def reset() -> Response:
    """Forget apps, codes, tokens, faults, calls and settings; seed the demo users again."""
    current_store().reset()
    return jsonify(reset=True)
