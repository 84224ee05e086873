"""Buyers' balances in the mock: what a payment takes and a refund or an unfreeze gives back."""

from __future__ import annotations

import json
import sqlite3

from service.gateway.money import fen_to_yuan
from service.mock_idp.demo_users import balance_text
from service.mock_idp.trade_records import TradeRefused


def move_balance(
    db: sqlite3.Connection, user_id: str, delta_fen: int, *, may_go_negative: bool = False
) -> int:
    """Add to (or, negative, take from) a user's balance; below zero only for what is owed.

    A pay against a credit-waived deposit takes money the user owes whatever the balance, so it
    may leave the balance negative; anything the user chooses to pay needs the money first.
    """
    row = db.execute("SELECT profile FROM users WHERE user_id = ?", (user_id,)).fetchone()
    if row is None:
        raise TradeRefused("ACQ.BUYER_NOT_EXIST", "买家不存在")
    profile = json.loads(row["profile"])
    balance = profile.get("balance_fen", 0) + delta_fen
    if balance < 0 and not may_go_negative:
        raise TradeRefused(
            "ACQ.BUYER_BALANCE_NOT_ENOUGH",
            f"买家余额不足：余额 {balance_text(profile.get('balance_fen', 0))} 元，"
            f"需付 {fen_to_yuan(-delta_fen)} 元",
        )
    profile["balance_fen"] = balance
    db.execute(
        "UPDATE users SET profile = ? WHERE user_id = ?",
        (json.dumps(profile, ensure_ascii=False), user_id),
    )
    return balance
