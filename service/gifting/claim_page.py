"""The claim page for browsers: a gift's preview, login through the platform, and the claim.

Inside the super-app the template message opens the mini-program's `pages/gift/claim`; a link
shared anywhere else opens `/claim/<token>` here. The page is rendered on the server (preview
only, never a code) and a little same-origin script does the rest through the public API:
`POST /v1/sessions` with the auth code the platform's login page returns, then
`POST /v1/claims/<token>`, then `GET /v1/vouchers/<id>` for the codes, which only their new
owner can read.

The claim token is a bearer secret, so it is kept away from third parties: every page is
`Referrer-Policy: no-referrer` (the platform's page never sees it in a Referer), the login goes
out with a fixed `redirect_uri` (`/claim/return`) and a random `state`, and the token waits in
the tab's sessionStorage beside that state until the platform sends the browser back. The state
must match, so nobody can log a visitor in with a code of theirs. A strict Content-Security-Policy
allows only this origin's script and style, and images from here and from the cover's host.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, render_template

from service.components import settings
from service.dbtypes import utcnow
from service.errors import NotFound
from service.gifting import claims
from service.gifting.models import CLAIMED, SENT, Gift

claim_page = Blueprint("claim_page", __name__, template_folder="templates")
RETURN_PATH = "/claim/return"


def _claim_state(gift: Gift) -> str:
    """`open` while it can be claimed, `claimed`, or `closed` (expired, refunded)."""
    if gift.status == CLAIMED:
        return "claimed"
    if gift.status == SENT and (gift.claim_expires_at is None or utcnow() <= gift.claim_expires_at):
        return "open"
    return "closed"


def _cover_url(gift: Gift) -> str | None:
    found = (c["image_url"] for c in gift.template.covers if c["name"] == gift.cover)
    return next(found, None)


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else None


def _page(status: int, image_origin: str | None = None, **context: Any) -> Response:
    """The page with the headers that keep it, and the token in it, to itself."""
    images = " ".join(filter(None, ("'self'", image_origin)))
    response = Response(render_template("claim.html", **context), status=status,
                        content_type="text/html; charset=utf-8")  # fmt: skip
    response.headers.update({
        "Content-Security-Policy": f"default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    })  # fmt: skip
    return response


@claim_page.get(RETURN_PATH)
def login_return() -> Response:
    """Where the platform's login page sends the browser back with `auth_code` and `state`."""
    return _page(200, mode="return")


@claim_page.get("/claim/<secret:token>")
def show_claim(token: str) -> Response:
    """A gift's preview with what can be done: log in, claim, or why not."""
    try:
        gift = claims.preview_claim(token)
    except NotFound:
        return _page(404, mode="unknown")
    cover = _cover_url(gift)
    config = settings()
    return _page(
        200, _origin(cover), mode="gift", gift=gift, cover_url=cover, token=token,
        state=_claim_state(gift), app_id=config.app_id,
        authorize_url=config.authorize_page_url, return_url=config.public_url + RETURN_PATH,
    )  # fmt: skip
