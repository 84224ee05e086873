"""`/gateway.do`: every open-gateway call, checked, dispatched to its method, answered signed."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, request

from service.gateway.signing import response_key
from service.mock_idp.apps import AppRecord
from service.mock_idp.authorize_page import error_page
from service.mock_idp.cert_mode import check_certificate_sns, response_signer
from service.mock_idp.encryption import decrypted_request
from service.mock_idp.faults import Fault, apply_after, apply_before, take_faults, wire_fault
from service.mock_idp.methods import METHODS, PAGE_METHODS, PageHandler
from service.mock_idp.parameters import business_parameters
from service.mock_idp.protocol import (
    ERROR_RESPONSE_KEY,
    SUCCESS_CODE,
    GatewayCall,
    GatewayError,
    GatewayMethod,
    check_signed_request,
    merge_parameters,
)
from service.mock_idp.responses import render_response, response_sign_type, success_inner
from service.mock_idp.runtime import current_platform_key, current_store
from service.mock_idp.store import MockStore
from service.mock_idp.wire_faults import spoiled_response

logger = logging.getLogger(__name__)
gateway_blueprint = Blueprint("mock_gateway", __name__)
JSON_CONTENT_TYPE = "application/json;charset=utf-8"
PAGE_ERROR_HEADING = "请求无效"


@dataclass
class GatewayAnswer:
    """What a call is answered with, before it is serialised."""

    key: str
    inner: dict[str, Any]
    signed: bool
    signature: str = "valid"
    wire: Fault | None = None
    aes_key: bytes | None = None  # the request came encrypted: so does the answer


@gateway_blueprint.route("/gateway.do", methods=["GET", "POST"])
def gateway() -> Response:
    """Merge query and form, answer with HTTP 200 whatever happens (clients break otherwise)."""
    params = merge_parameters(request.args, request.form)
    store = current_store()
    method_name = params.get("method", "")
    page = PAGE_METHODS.get(method_name)
    if page is not None and (method_name not in METHODS or _browser_navigation()):
        return answer_page(params, store, page)
    answer = answer_call(params, store, host_url=request.host_url)
    signer, alipay_cert_sn = response_signer(store, params.get("app_id"), current_platform_key())
    body = render_response(
        answer.key,
        answer.inner,
        signer if answer.signed else None,
        signature=answer.signature,
        sign_type=response_sign_type(params),
        alipay_cert_sn=alipay_cert_sn,
        aes_key=answer.aes_key,
    )
    store.record_call(
        request.method,
        params.get("method", ""),
        params.get("app_id", ""),
        answer.inner.get("code", ""),
        answer.inner.get("sub_code", ""),
    )
    if answer.wire is not None:
        return spoiled_response(
            answer.wire.kind, body, method=method_name, inner=answer.inner,
            private_key=signer, seconds=answer.wire.seconds,
        )  # fmt: skip
    return Response(body, status=200, content_type=JSON_CONTENT_TYPE)


def _browser_navigation() -> bool:
    """A browser opening a URL (it asks for HTML first), not a server client expecting JSON.

    A page API that is also a method (the freeze's orderStr) shows its page to a browser and
    answers a server's direct call in JSON, which is how the platform refuses such calls.
    """
    # Browsers name text/html explicitly; API clients send */* or nothing. (`best` is no help:
    # werkzeug ranks Chromium's `application/signed-exchange;v=b3;q=0.7` first.)
    asks_for_html = any(
        value == "text/html" and quality > 0 for value, quality in request.accept_mimetypes
    )
    return request.method == "GET" and asks_for_html


def answer_call(params: dict[str, str], store: MockStore, *, host_url: str) -> GatewayAnswer:
    """Run the protocol's checks in the platform's order, then faults, then the method."""
    method_name = params.get("method", "")
    method = METHODS.get(method_name)
    app = store.get_app(params.get("app_id"))
    effects = FaultEffects()
    try:
        answer = _checked_call(params, store, app, method, host_url, effects)
    except GatewayError as error:
        answer = GatewayAnswer(_error_key(method, error), error.inner(), signed=app is not None)
    except Exception:
        logger.exception("mock gateway method %s failed", method_name)
        busy = GatewayError("20000", "isp.unknow-error", "系统繁忙")
        answer = GatewayAnswer(_error_key(method, busy), busy.inner(), signed=app is not None)
    answer.signature = effects.signature
    answer.wire = wire_fault(effects.after)
    if answer.key != ERROR_RESPONSE_KEY:
        answer.aes_key = effects.aes_key
    return answer


@dataclass
class FaultEffects:
    """How injected faults change the answer's signature (`valid`, `corrupt` or `none`)."""

    signature: str = "valid"
    after: list[Fault] = field(default_factory=list)
    aes_key: bytes | None = None  # set once an encrypted request has been decrypted


def _checked_call(
    params: dict[str, str],
    store: MockStore,
    app: AppRecord | None,
    method: GatewayMethod | None,
    host_url: str,
    effects: FaultEffects,
) -> GatewayAnswer:
    name = method.name if method is not None else None
    call = _verified_call(params, store, app, name, host_url, effects)
    assert method is not None, "_verified_call refuses an unknown method"
    inner = apply_after(effects.after, success_inner(method.handler(call)))  # done, then lost
    return GatewayAnswer(response_key(method.name), inner, True)


def _verified_call(
    params: dict[str, str],
    store: MockStore,
    app: AppRecord | None,
    method_name: str | None,
    host_url: str,
    effects: FaultEffects,
    *,
    enforce_encryption: bool = True,
) -> GatewayCall:
    """The common checks, the signature, decryption and the method's faults, in that order."""
    now = time.time()
    app = check_signed_request(params, app, now, store.settings()["timestamp_skew_seconds"])
    check_certificate_sns(params, app, store)
    if method_name is None:
        raise GatewayError(
            "40002", "isv.invalid-method", "不存在的方法名", under_error_response=True
        )
    params, effects.aes_key = decrypted_request(
        params, app, method_name, enforce=enforce_encryption
    )
    _apply_faults(take_faults(store, method_name), effects)
    return GatewayCall(
        params=params,
        biz=business_parameters(params),
        app=app,
        store=store,
        now=now,
        host_url=host_url,
        platform_key=response_signer(store, app.app_id, current_platform_key())[0],
    )


def answer_page(params: dict[str, str], store: MockStore, page: PageHandler) -> Response:
    """A page API: the same checks and faults as any call, then a page instead of JSON.

    A refusal (bad signature, an injected error, an unknown id) is shown on the error page;
    signature faults do not apply, since a page carries no response signature.
    """
    app = store.get_app(params.get("app_id"))
    try:
        call = _verified_call(
            params, store, app, params["method"], request.host_url, FaultEffects(),
            enforce_encryption=False,
        )  # fmt: skip
        response = page(call)
    except GatewayError as error:
        store.record_call(
            request.method, params["method"], params.get("app_id", ""), error.code, error.sub_code
        )
        detail = f"{error.sub_msg}（{error.code} {error.sub_code}）"
        return error_page(detail, heading=PAGE_ERROR_HEADING)
    store.record_call(request.method, params["method"], params["app_id"], SUCCESS_CODE, "")
    return response


def _apply_faults(faults: list[Fault], effects: FaultEffects) -> None:
    """Faults that act instead of the method now; those marked `after` once it has acted."""
    signature, effects.after = apply_before(faults)
    effects.signature = signature or effects.signature


def _error_key(method: GatewayMethod | None, error: GatewayError) -> str:
    if method is None or method.errors_under_error_response or error.under_error_response:
        return ERROR_RESPONSE_KEY
    return response_key(method.name)
