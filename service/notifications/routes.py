"""`POST /v1/notifications/alipay`: where the gateway posts every asynchronous notification."""

from __future__ import annotations

from flask import Response, request
from flask_smorest import Blueprint

from service.http import accepts_form
from service.notifications import services
from service.openapi import problems

blp = Blueprint(
    "notifications", __name__, url_prefix="/v1/notifications",
    description="Signed asynchronous notifications from the gateway.",
)  # fmt: skip


@blp.route("/alipay", methods=["POST"])
@accepts_form
@blp.response(200, content_type="text/plain", description="The plain body `success`.")
@problems(blp, 400, 413, 415)
def alipay_notification():
    """Verify, apply once, and answer `success` after the change is committed.

    The platform posts payment, freeze, unfreeze and refund notifications here. A bad signature
    is a 400. Each `notify_id` is applied once, and `success` is answered only after the change
    is committed, so a failure makes the platform deliver it again; one that is not ours is
    refused, recorded and counted.
    """
    services.receive_notification(request.form.to_dict())
    return Response("success", mimetype="text/plain")
