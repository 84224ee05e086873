"""The face-scan page: what `alipay.user.certify.open.certify` shows the person being verified.

The merchant signs a `gateway.do?method=alipay.user.certify.open.certify&biz_content=
{"certify_id":…}` URL; the browser opening it gets this page once the gateway's usual checks
(signature, app, faults) pass. It shows the app and the person's name masked as the platform
masks names (every character but the last hidden: `*伟`, `***雪`) with the ID number cut to its
ends, never either in full.

"Scan face" stands for the scan itself: it passes or fails as the person's profile `face`
says, and a name and number that are not one of the mock's users always fail, so no button can
make a mismatching identity pass. "Fail" fails the scan on purpose with a chosen reason;
"Cancel" leaves without finishing, as closing the platform's page does. The browser then goes
to the certification's `return_url` unchanged: like the platform, the mock adds nothing to it,
and the merchant learns the outcome only by querying.
"""

from __future__ import annotations

import hashlib
import time

from flask import Blueprint, Response, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse  # what redirect() gives

from service.mock_idp.authorize_page import (
    error_page,
    html_page,
    is_registered_redirect,
    new_page_nonce,
    spend_page_nonce,
)
from service.mock_idp.certifications import (
    FAIL_REASONS,
    Certification,
    chosen_failure,
    find_certification,
    finish_certification,
    get_certification,
    illegal_argument,
    scan_outcome,
)
from service.mock_idp.demo_users import masked_cert_no, masked_name
from service.mock_idp.parameters import text_parameter
from service.mock_idp.protocol import GatewayCall
from service.mock_idp.runtime import current_store

CERTIFY_METHOD = "alipay.user.certify.open.certify"
CERTIFY_PATH = "/certify"
HEADING = "身份认证"

certify_blueprint = Blueprint("mock_certify", __name__)


def show_certify_page(call: GatewayCall) -> Response:
    """The page for a verified certify call: the person, the expected result, the buttons."""
    certify_id = text_parameter(call.biz, "certify_id", max_length=64, refuse=illegal_argument)
    certification = find_certification(call.store, call.app.app_id, certify_id)
    if not certification.finished and certification.expires_at <= call.now:
        return error_page("认证已过期，请重新发起认证（certify_id expired）", 410, heading=HEADING)
    return _render(certification)


def _context(certification: Certification) -> str:
    return hashlib.sha256(f"certify\n{certification.certify_id}".encode()).hexdigest()


def _render(certification: Certification, *, status: int = 200) -> Response:
    store = current_store()
    nonce = None if certification.finished else new_page_nonce(store, _context(certification))
    html = render_template(
        "certify.html",
        certification=certification,
        app=store.get_app(certification.app_id),
        name=masked_name(certification.cert_name),
        cert_no=masked_cert_no(certification.cert_no),
        expected=scan_outcome(store, certification),
        reasons=FAIL_REASONS,
        nonce=nonce,
    )
    return html_page(html, status)


@certify_blueprint.post(CERTIFY_PATH)
def decide() -> BaseResponse:
    """Scan, fail or cancel, then back to the certification's return_url."""
    store = current_store()
    certification = get_certification(store, request.form.get("certify_id", ""))
    if certification is None:
        return error_page("无效的certify_id（unknown certification）", 404, heading=HEADING)
    app = store.get_app(certification.app_id)
    if app is None or not is_registered_redirect(app, certification.return_url):
        return error_page("return_url 不在应用登记的回调地址中", heading=HEADING)
    if not spend_page_nonce(store, request.form.get("nonce", ""), _context(certification)):
        return error_page(
            "页面已过期或已提交过，请从应用重新发起认证（stale or reused form）", heading=HEADING
        )
    now = time.time()
    if certification.expires_at <= now:
        return error_page("认证已过期，请重新发起认证（certify_id expired）", 410, heading=HEADING)
    decision = request.form.get("decision")
    if decision == "scan":
        outcome = scan_outcome(store, certification)
    elif decision == "fail":
        reason = request.form.get("reason", "")
        outcome = chosen_failure(store, certification, reason if reason in FAIL_REASONS else "")
    else:
        return redirect(certification.return_url, 302)
    finished = finish_certification(store, certification.certify_id, outcome, now)
    if finished is None:  # finished meanwhile, in another tab or through the control API
        latest = get_certification(store, certification.certify_id)
        return _render(latest or certification, status=409)
    return redirect(finished.return_url, 302)
