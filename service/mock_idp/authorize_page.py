"""The browser authorisation page: pick a demo user, approve or deny, go back to the app."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse  # what redirect() gives

from service.mock_idp.apps import AppRecord
from service.mock_idp.demo_users import masked_name
from service.mock_idp.grants import issue_auth_code, parse_scopes
from service.mock_idp.runtime import current_store
from service.mock_idp.store import MockStore

AUTHORIZE_PATH = "/oauth2/publicAppAuthorize.htm"
NONCE_TTL_SECONDS = 900
MAX_STATE_LENGTH = 256
SCOPE_DESCRIPTIONS = {
    "auth_base": ("获取你的支付宝账号标识", "Know which Alipay account you are (silent)"),
    "auth_user": (
        "获取你的公开信息（头像、昵称）",
        "Read your public profile: avatar and nickname",
    ),
    "auth_zhima": ("查询你的芝麻信用", "Check your Zhima credit"),
}
_PAGE_HEADERS = {
    # No form-action: Chromium applies it to the redirect back to the app after the form posts.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline';"
    " img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

authorize_blueprint = Blueprint("mock_authorize", __name__)


class PageRequestInvalid(Exception):
    """An authorisation request the page refuses without redirecting anywhere."""


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated request: the app, the scopes asked for, where to go back, the app's state."""

    app: AppRecord
    scopes: tuple[str, ...]
    scope_text: str
    redirect_uri: str
    state: str

    def context(self) -> str:
        """What a page nonce is bound to, so a form cannot be replayed for another request."""
        parts = (self.app.app_id, self.scope_text, self.redirect_uri, self.state)
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def is_web_url(uri: Any) -> bool:
    """An absolute http(s) URL without a fragment: the only kind a redirect may go to."""
    if not isinstance(uri, str):
        return False
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment


def validated_request(store: MockStore, values: Any) -> AuthorizationRequest:
    """Check app, scope, redirect_uri and state; PageRequestInvalid names the first problem."""
    app = store.get_app(values.get("app_id"))
    if app is None:
        raise PageRequestInvalid("app_id 未注册（unknown app_id）")
    try:
        scopes = parse_scopes(values.get("scope", ""))
    except ValueError as exc:
        raise PageRequestInvalid(f"scope 无效：{exc}") from None
    redirect_uri = values.get("redirect_uri", "")
    if not is_web_url(redirect_uri):
        raise PageRequestInvalid("redirect_uri 必须是完整的 http(s) 地址")
    if not is_registered_redirect(app, redirect_uri):
        raise PageRequestInvalid("redirect_uri 不在应用登记的授权回调地址中")
    state = values.get("state", "")
    if len(state) > MAX_STATE_LENGTH:
        raise PageRequestInvalid(f"state 不能超过 {MAX_STATE_LENGTH} 个字符")
    return AuthorizationRequest(app, scopes, ",".join(scopes), redirect_uri, state)


def is_registered_redirect(app: AppRecord, uri: str) -> bool:
    """Whether a page may send the browser to `uri`: anywhere, unless the app registered URIs."""
    return not app.redirect_uris or any(_under(uri, registered) for registered in app.redirect_uris)


def _under(uri: str, registered: str) -> bool:
    """Whether `uri` is the registered callback or below it (never a look-alike host or path)."""
    if not uri.startswith(registered):
        return False
    return len(uri) == len(registered) or registered.endswith("/") or uri[len(registered)] in "/?"


def html_page(html: str, status: int = 200) -> Response:
    """A mock page with headers that keep it self-contained and out of frames and caches."""
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.headers.update(_PAGE_HEADERS)
    return response


def error_page(message: str, status: int = 400, heading: str | None = None) -> Response:
    """A page that explains a refused request and sends the browser nowhere."""
    return html_page(render_template("error.html", message=message, heading=heading), status)


@authorize_blueprint.get(AUTHORIZE_PATH)
def show_authorize_page() -> Response:
    """The consent page: the app, the scopes in plain words, the demo users to choose from."""
    store = current_store()
    try:
        auth_request = validated_request(store, request.args)
    except PageRequestInvalid as problem:
        return error_page(str(problem))
    nonce = new_page_nonce(store, auth_request.context())
    users = [{**user, "masked_name": masked_name(user["user_name"])} for user in store.list_users()]
    html = render_template(
        "authorize.html",
        auth_request=auth_request,
        scopes=[SCOPE_DESCRIPTIONS[scope] for scope in auth_request.scopes],
        users=users,
        nonce=nonce,
    )
    return html_page(html)


@authorize_blueprint.post(AUTHORIZE_PATH)
def decide() -> BaseResponse:
    """Approve → back to the app with an auth code; deny → back with `error=access_denied`."""
    store = current_store()
    try:
        auth_request = validated_request(store, request.form)
    except PageRequestInvalid as problem:
        return error_page(str(problem))
    if not spend_page_nonce(store, request.form.get("nonce", ""), auth_request.context()):
        return error_page("页面已过期或已提交过，请从应用重新发起授权（stale or reused form）")
    state = {"state": auth_request.state} if auth_request.state else {}
    if request.form.get("decision") != "approve":
        denied = {"error": "access_denied", "error_description": "用户拒绝授权", **state}
        return redirect(with_query(auth_request.redirect_uri, denied), 302)
    user_id = request.form.get("user_id", "")
    if store.get_user(user_id) is None:
        return error_page("请选择一个用户（choose a user）")
    code = issue_auth_code(store, auth_request.app.app_id, user_id, auth_request.scopes)
    granted = {
        "app_id": auth_request.app.app_id,
        "source": "alipay_wallet",
        "scope": auth_request.scope_text,
        "auth_code": code,
        **state,
    }
    return redirect(with_query(auth_request.redirect_uri, granted), 302)


def with_query(uri: str, params: dict[str, str]) -> str:
    """`uri` with `params` added after the query it already has."""
    parts = urlsplit(uri)
    query = "&".join(part for part in (parts.query, urlencode(params)) if part)
    return urlunsplit(parts._replace(query=query))


def new_page_nonce(store: MockStore, context: str) -> str:
    """A single-use form token bound to what the page shows, so a form cannot be replayed."""
    nonce = secrets.token_urlsafe(24)
    now = time.time()
    with store.transaction() as db:
        db.execute("DELETE FROM page_nonces WHERE expires_at <= ?", (now,))
        db.execute(
            "INSERT INTO page_nonces VALUES (?, ?, ?)", (nonce, context, now + NONCE_TTL_SECONDS)
        )
    return nonce


def spend_page_nonce(store: MockStore, nonce: str, context: str) -> bool:
    """Use up a form token; False when it is unknown, expired, spent or for another context."""
    changed = store.execute(
        "DELETE FROM page_nonces WHERE nonce = ? AND context = ? AND expires_at > ?",
        (nonce, context, time.time()),
    )
    return changed == 1
