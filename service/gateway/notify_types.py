"""The asynchronous notifications the platform sends for the methods Minifin calls.

`alipay.trade.create` / `trade.pay` answer later with `trade_status_sync`; a freeze made on the
cashier page (`alipay.fund.auth.order.app.freeze`) and an unfreeze (`...order.unfreeze`) with
`fund_auth_freeze` and `fund_auth_unfreeze`. Every type here has a handler in some capability
(tests/unit/test_wiring.py checks the composed table against `NOTIFY_TYPES`), so none can reach
the endpoint unhandled.
"""

from __future__ import annotations

TRADE_STATUS_SYNC = "trade_status_sync"
FUND_AUTH_FREEZE = "fund_auth_freeze"
FUND_AUTH_UNFREEZE = "fund_auth_unfreeze"

NOTIFY_TYPES = (TRADE_STATUS_SYNC, FUND_AUTH_FREEZE, FUND_AUTH_UNFREEZE)
