"""Fund authorisation records: orders (one per auth_no) and their operations, stored and read.

The rules that change them live in fund_auth.py; this module only knows the tables, the shapes,
the platform's numbers and how to find an order or an operation (AUTH_ORDER_NOT_EXIST and
AUTH_OPERATION_NOT_EXIST when there is none).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.mock_idp.protocol import BEIJING, BusinessRefusal
from service.mock_idp.store import MockStore
from service.mock_idp.store_tables import register_table

FREEZE, UNFREEZE, PAY = "FREEZE", "UNFREEZE", "PAY"
SUCCESS = "SUCCESS"
# An order is AUTHORIZED while anything is held; with nothing left it is CLOSED when all of it
# went back to the payer and FINISH when any of it was paid to the merchant (the platform's words).
AUTHORIZED, CLOSED, FINISH = "AUTHORIZED", "CLOSED", "FINISH"

register_table(
    "fund_auth_orders",
    """CREATE TABLE IF NOT EXISTS fund_auth_orders (
        auth_no TEXT PRIMARY KEY, app_id TEXT NOT NULL, out_order_no TEXT NOT NULL,
        payer_user_id TEXT NOT NULL, order_title TEXT NOT NULL, product_code TEXT NOT NULL,
        extra_param TEXT, notify_url TEXT, status TEXT NOT NULL, freeze_fen INTEGER NOT NULL,
        credit_fen INTEGER NOT NULL, fund_fen INTEGER NOT NULL, rest_credit_fen INTEGER NOT NULL,
        rest_fund_fen INTEGER NOT NULL, unfrozen_fen INTEGER NOT NULL, paid_fen INTEGER NOT NULL,
        created_at REAL NOT NULL, UNIQUE (app_id, out_order_no))""",
)
register_table(
    "fund_auth_operations",
    """CREATE TABLE IF NOT EXISTS fund_auth_operations (
        operation_id TEXT PRIMARY KEY, auth_no TEXT NOT NULL, out_request_no TEXT NOT NULL,
        operation_type TEXT NOT NULL, amount_fen INTEGER NOT NULL, credit_fen INTEGER NOT NULL,
        fund_fen INTEGER NOT NULL, status TEXT NOT NULL, remark TEXT, trade_no TEXT,
        request_digest TEXT NOT NULL, notify_id TEXT, created_at REAL NOT NULL,
        UNIQUE (auth_no, out_request_no))""",
)


class FundAuthRefused(BusinessRefusal):
    """A fund authorisation's business failure: 40004 with the platform's sub_code."""


@dataclass(frozen=True)
class FreezeRequest:
    """What a signed freeze orderStr asks for, already checked for shape."""

    app_id: str
    out_order_no: str
    out_request_no: str
    order_title: str
    amount_fen: int
    product_code: str
    extra_param: str | None = None
    notify_url: str | None = None
    return_url: str | None = None

    def digest(self, payer_user_id: str) -> str:
        """What "the same request" means: everything the payer agrees to, not when it was signed."""
        return request_digest(
            self.out_order_no, self.order_title, self.amount_fen, self.product_code,
            self.extra_param, payer_user_id,
        )  # fmt: skip


@dataclass(frozen=True)
class AuthOrder:
    """One authorisation (an auth_no) with its running totals."""

    auth_no: str
    app_id: str
    out_order_no: str
    payer_user_id: str
    order_title: str
    product_code: str
    extra_param: str | None
    notify_url: str | None
    status: str
    freeze_fen: int
    credit_fen: int
    fund_fen: int
    rest_credit_fen: int
    rest_fund_fen: int
    unfrozen_fen: int
    paid_fen: int
    created_at: float

    @property
    def rest_fen(self) -> int:
        """What is still held, waived credit and real money together."""
        return self.rest_credit_fen + self.rest_fund_fen


@dataclass(frozen=True)
class AuthOperation:
    """One FREEZE, UNFREEZE or PAY of an order, with its credit/fund split."""

    operation_id: str
    auth_no: str
    out_request_no: str
    operation_type: str
    amount_fen: int
    credit_fen: int
    fund_fen: int
    status: str
    remark: str | None
    trade_no: str | None
    request_digest: str
    notify_id: str | None
    created_at: float


def request_digest(*parts: Any) -> str:
    """A fingerprint of a request's content, to tell a retry from a different request."""
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def _digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def _beijing_date(now: float) -> str:
    return datetime.fromtimestamp(now, BEIJING).strftime("%Y%m%d")


def new_auth_no(now: float) -> str:
    """28 digits: the Beijing date, then random digits."""
    return _beijing_date(now) + "10" + _digits(18)


def new_operation_id(now: float) -> str:
    """Digits only, like the platform's: the Beijing date, then random digits."""
    return _beijing_date(now) + "0003" + _digits(12)


def insert_record(db: sqlite3.Connection, table: str, record: AuthOrder | AuthOperation) -> None:
    """Store a new order or operation inside the caller's transaction."""
    names = list(vars(record))
    db.execute(
        f"INSERT INTO {table} ({', '.join(names)})"  # noqa: S608 - field names, a fixed table
        f" VALUES ({', '.join(':' + name for name in names)})",
        vars(record),
    )


def locked_order(db: sqlite3.Connection, auth_no: str) -> AuthOrder:
    """An order re-read inside the caller's transaction (the store's lock keeps it current)."""
    order = order_where(db, "auth_no = ?", auth_no)
    if order is None:
        raise FundAuthRefused("AUTH_ORDER_NOT_EXIST", "授权订单不存在")
    return order


def find_order(
    store: MockStore, app_id: str, *, auth_no: str | None = None, out_order_no: str | None = None
) -> AuthOrder:
    """The app's own order by either number (both must agree); AUTH_ORDER_NOT_EXIST otherwise."""
    clauses, params = ["app_id = ?"], [app_id]
    for column, value in (("auth_no", auth_no), ("out_order_no", out_order_no)):
        if value:
            clauses, params = [*clauses, f"{column} = ?"], [*params, value]
    with store.transaction() as db:
        order = order_where(db, " AND ".join(clauses), *params) if len(params) > 1 else None
    if order is None:
        raise FundAuthRefused("AUTH_ORDER_NOT_EXIST", "授权订单不存在")
    return order


def get_order(store: MockStore, auth_no: str) -> AuthOrder | None:
    """Any app's order by auth_no, or None."""
    with store.transaction() as db:
        return order_where(db, "auth_no = ?", auth_no)


def list_orders(store: MockStore, **filters: str | None) -> list[AuthOrder]:
    """Orders, oldest first, filtered by equal columns (`app_id`, `out_order_no`, `status`)."""
    used = {name: value for name, value in filters.items() if value}
    where = " AND ".join(f"{name} = ?" for name in used) or "1 = 1"
    rows = store.query(
        f"SELECT * FROM fund_auth_orders WHERE {where} ORDER BY created_at, rowid",  # noqa: S608
        list(used.values()),
    )
    return [AuthOrder(**dict(row)) for row in rows]


def operations_of(store: MockStore, auth_no: str) -> list[AuthOperation]:
    """An order's operations, oldest first."""
    rows = store.query(
        "SELECT * FROM fund_auth_operations WHERE auth_no = ? ORDER BY created_at, rowid",
        (auth_no,),
    )
    return [AuthOperation(**dict(row)) for row in rows]


def operation_by_request(
    db: sqlite3.Connection, auth_no: str, out_request_no: str
) -> AuthOperation | None:
    """The order's operation with this out_request_no, read inside the caller's transaction."""
    return operation_where(db, "auth_no = ? AND out_request_no = ?", auth_no, out_request_no)


def find_operation(
    store: MockStore,
    order: AuthOrder,
    *,
    operation_id: str | None = None,
    out_request_no: str | None = None,
) -> AuthOperation:
    """One of the order's operations by either number; AUTH_OPERATION_NOT_EXIST otherwise."""
    clauses, params = ["auth_no = ?"], [order.auth_no]
    for column, value in (("operation_id", operation_id), ("out_request_no", out_request_no)):
        if value:
            clauses, params = [*clauses, f"{column} = ?"], [*params, value]
    with store.transaction() as db:
        operation = operation_where(db, " AND ".join(clauses), *params) if len(params) > 1 else None
    if operation is None:
        raise FundAuthRefused("AUTH_OPERATION_NOT_EXIST", "授权操作不存在")
    return operation


def order_where(db: sqlite3.Connection, where: str, *params: Any) -> AuthOrder | None:
    """The first order matching a fixed WHERE clause, inside the caller's transaction."""
    row = db.execute(f"SELECT * FROM fund_auth_orders WHERE {where}", params).fetchone()  # noqa: S608
    return AuthOrder(**dict(row)) if row else None


def operation_where(db: sqlite3.Connection, where: str, *params: Any) -> AuthOperation | None:
    """The first operation matching a fixed WHERE clause, inside the caller's transaction."""
    row = db.execute(
        f"SELECT * FROM fund_auth_operations WHERE {where} ORDER BY created_at",  # noqa: S608
        params,
    ).fetchone()
    return AuthOperation(**dict(row)) if row else None
