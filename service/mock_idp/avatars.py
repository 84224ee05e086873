"""Generated SVG avatars, served by the mock itself so demo profiles need no internet."""

from __future__ import annotations

import hashlib
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort

from service.mock_idp.runtime import current_store

avatars_blueprint = Blueprint("mock_avatars", __name__)
_PALETTE = ("#1677ff", "#13a8a8", "#52c41a", "#fa8c16", "#eb2f96", "#722ed1", "#2f54eb", "#d4380d")


def avatar_svg(user_id: str, label: str) -> str:
    """A round badge with the label's first character on a colour picked from the user id."""
    colour = _PALETTE[hashlib.sha256(user_id.encode()).digest()[0] % len(_PALETTE)]
    initial = escape(label[:1] or "?")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">'
        f'<circle cx="48" cy="48" r="48" fill="{colour}"/>'
        '<text x="48" y="50" dominant-baseline="middle" text-anchor="middle" font-size="44"'
        f' font-family="sans-serif" fill="#fff">{initial}</text></svg>'
    )


@avatars_blueprint.get("/avatars/<user_id>.svg")
def avatar(user_id: str) -> Response:
    """The avatar of a known user (404 otherwise)."""
    user = current_store().get_user(user_id)
    if user is None:
        abort(404)
    response = Response(avatar_svg(user_id, user["nick_name"]), content_type="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
