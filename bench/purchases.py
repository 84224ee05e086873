"""The write path's setup: what `POST /v1/gifts` needs on a throw-away Minifin, made the real way.

A merchant client made by `minifin clients create` (its secret read from the command's output),
its client-credentials token, a voucher template posted with it, and a second demo user to be the
recipient; the order is due in a week, so nothing is sent while the load runs. Each purchase is
real: the gift, its event and its settle job are written, and `alipay.trade.create` goes to the
mock over loopback, RSA2-signed both ways.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx

from bench import HOST, BenchFailed
from bench.instance import Minifin, first_user, log_in, login_clients
from bench.servers import ROOT

TEMPLATE = {
    "name": "Flat white",
    "kind": "item",
    "face_value_fen": 3200,
    "price_fen": 2900,
    "covers": [{"name": "thanks", "image_url": "https://cdn.example.com/covers/thanks.png"}],
}


def merchant_token(minifin: Minifin, api: httpx.Client) -> str:
    """A client with `templates:write`, created by the CLI, and its access token."""
    created = subprocess.run(
        [sys.executable, "-m", "service.cli", "clients", "create", "bench", "--scope",
         "templates:write"],
        cwd=ROOT, env=minifin.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    found = dict(re.findall(r"^(client_id|client_secret):\s+(\S+)$", created.stdout, re.M))
    if created.returncode or len(found) != 2:
        raise BenchFailed(f"minifin clients create: {created.stderr[-300:] or created.stdout}")
    answer = api.post("/v1/oauth/token", data={"grant_type": "client_credentials", **found})
    if answer.status_code != 200:
        raise BenchFailed(f"client token: HTTP {answer.status_code} {answer.text[:200]}")
    return answer.json()["access_token"]


def gift_order(minifin: Minifin, port: int) -> tuple[dict[str, str], bytes]:
    """The sender's bearer header and the order body every purchase posts."""
    with login_clients(f"http://{HOST}:{port}", minifin.mock_url) as (api, control):
        merchant = {"Authorization": f"Bearer {merchant_token(minifin, api)}"}
        template = api.post("/v1/voucher-templates", json=TEMPLATE, headers=merchant)
        if template.status_code != 201:
            raise BenchFailed(f"template: HTTP {template.status_code} {template.text[:200]}")
        sender = log_in(api, control, minifin.app_id, first_user(control))[0]
        body = control.get("/_mock/users").json()
        users = body["users"] if isinstance(body, dict) else body
        friend = log_in(api, control, minifin.app_id, users[1]["user_id"])[0]
    order = {
        "template_id": template.json()["id"],
        "quantity": 1,
        "recipient": {"user_id": friend["user"]["id"]},
        "message": "Thanks!",
        "cover": "thanks",
        "send_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
    }
    bearer = {"Authorization": f"Bearer {sender['access_token']}"}
    return bearer, json.dumps(order).encode()


def expect_created(port: int, path: str, headers: dict[str, str], body: bytes) -> None:
    """One POST that must answer 201 before the load starts (a wrong setup fails with a reason)."""
    response = httpx.post(
        f"http://{HOST}:{port}{path}",
        content=body,
        headers={**headers, "Content-Type": "application/json", "Idempotency-Key": "bench-probe"},
        timeout=30,
    )
    if response.status_code != 201:
        raise BenchFailed(
            f"POST {path} on :{port}: HTTP {response.status_code} {response.text[:300]}"
        )
