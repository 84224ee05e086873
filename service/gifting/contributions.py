"""What gifting adds to Minifin: its endpoints and claim page, the jobs that message, refund and
settle gifts, the due gifts and unclaimed gifts every worker runs, the payment notification,
`minifin refunds` / `minifin gifts`, and the sending and operator-queue gauges.

Read by the composition root (service/bootstrap.py) only.
"""

from __future__ import annotations

from service.contributions import Contributions
from service.gateway.notify_types import TRADE_STATUS_SYNC
from service.gifting.claim_page import claim_page
from service.gifting.commands import gifts, refunds
from service.gifting.jobs import TEMPLATE_MESSAGE, send_template_message
from service.gifting.late_payments import REFUND_PAID_LATE, refund_paid_late
from service.gifting.operator_queue import GiftOperatorQueueCollector
from service.gifting.payment_results import SETTLE_UNPAID, apply_trade_status, settle_unpaid
from service.gifting.refunds import REFUND_GIFT, UNCLAIMED_GIFTS, refund_gift
from service.gifting.routes import blp, claims_blp, gifts_blp, vouchers_blp
from service.gifting.sending import DUE_GIFTS
from service.gifting.sending_metrics import GiftSendingCollector

CONTRIBUTIONS = Contributions(
    name="gifting",
    api_blueprints=(blp, gifts_blp, claims_blp, vouchers_blp),
    blueprints=(claim_page,),  # an HTML page for browsers, not part of the API
    job_handlers=(
        (TEMPLATE_MESSAGE, send_template_message),
        (REFUND_GIFT, refund_gift),
        (REFUND_PAID_LATE, refund_paid_late),
        (SETTLE_UNPAID, settle_unpaid),
    ),
    due_work=(UNCLAIMED_GIFTS, DUE_GIFTS),
    notification_handlers=((TRADE_STATUS_SYNC, apply_trade_status),),
    cli_commands=(refunds, gifts),
    metrics=(GiftSendingCollector, GiftOperatorQueueCollector),
)
