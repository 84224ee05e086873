"""Shared helpers for tests that speak to the mock identity provider over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from flask import Flask, request

from service.gateway import certificates, signing
from service.mock_idp import create_mock_app
from tests.live_server import LiveServer

TEST_APP_ID = "2021000000000001"
OTHER_APP_ID = "2021000000000002"
DEMO_USER_ID = "2088102146225135"  # 张伟 in data/demo_users.json


def gateway_timestamp(offset_seconds: float = 0) -> str:
    """Now in Beijing time, in the gateway's `yyyy-MM-dd HH:mm:ss` format."""
    beijing = datetime.now(UTC) + timedelta(hours=8, seconds=offset_seconds)
    return beijing.strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class GatewayReply:
    """A parsed gateway answer: which key held the inner object, the object, and the raw body."""

    key: str
    inner: dict[str, Any]
    signature: str | None
    inner_text: str
    body: str
    status: int

    @property
    def succeeded(self) -> bool:
        return self.inner.get("code") == "10000"


class SignedAppClient:
    """A merchant app talking to `/gateway.do` the way real clients do, signing with its key."""

    def __init__(
        self, base_url: str, app_id: str, private_key, platform_public_key, cert_sns=None
    ):
        self.base_url = base_url
        self.app_id = app_id
        self.private_key = private_key
        self.platform_public_key = platform_public_key
        self.cert_sns = dict(cert_sns or {})  # certificate mode: app_cert_sn, alipay_root_cert_sn
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def common(self, method: str, **overrides: Any) -> dict[str, str]:
        """The common parameters of a call, overridable (None removes one)."""
        params = {
            "app_id": self.app_id,
            "method": method,
            "format": "json",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": gateway_timestamp(),
            "version": "1.0",
            **self.cert_sns,
        }
        params.update(overrides)
        return {key: value for key, value in params.items() if value is not None}

    def signed_params(self, method: str, biz: dict | None = None, **top: Any) -> dict[str, str]:
        """Every parameter of a call with its RSA2 signature."""
        params = self.common(method, **top)
        if biz is not None:
            params["biz_content"] = signing.compact_json(biz)
        return signing.sign_request(params, self.private_key)

    def get(self, params: dict[str, str]) -> httpx.Response:
        """Every parameter in the query string, the way `python-alipay-sdk` sends them."""
        return self.http.get("/gateway.do", params=params)

    def post(self, params: dict[str, str], body_keys: tuple[str, ...] = ()) -> httpx.Response:
        """Common parameters in the query, `biz_content` and `body_keys` in a form body."""
        in_body = {"biz_content", *body_keys}
        query = {k: v for k, v in params.items() if k not in in_body}
        form = {k: v for k, v in params.items() if k in in_body}
        return self.http.post("/gateway.do", params=query, data=form)

    def call(
        self, method: str, biz: dict | None = None, *, via: str = "get", **top
    ) -> GatewayReply:
        """Sign and send one call, and parse (not yet verify) the answer."""
        params = self.signed_params(method, biz, **top)
        post = via == "post"
        response = self.post(params, body_keys=tuple(top)) if post else self.get(params)
        return parse_reply(response, method)

    def verifies(self, reply: GatewayReply, sign_type: str = "RSA2") -> bool:
        """Whether the reply's signature checks out against the platform's public key."""
        return reply.signature is not None and signing.verify(
            reply.inner_text, reply.signature, self.platform_public_key, sign_type
        )

    def close(self) -> None:
        self.http.close()


def parse_reply(response: httpx.Response, method: str) -> GatewayReply:
    """Find the inner object under the method's key or `error_response`, as clients do."""
    return parse_body(response.text, method, response.status_code)


def parse_body(body: str, method: str, status: int = 200) -> GatewayReply:
    """Parse a raw response body: the inner object's exact text and the signature."""
    envelope = json.loads(body)
    key = signing.response_key(method)
    if key not in envelope:
        key = "error_response"
    inner_text, inner, signature = signing.extract_response(body, key)
    return GatewayReply(key, inner, signature, inner_text, body, status)


def brace_counting_inner_text(body: str, key: str) -> str:
    """The signed span as brace-counting clients find it (python-alipay-sdk's algorithm)."""
    start = body.find("{", body.find(key))
    depth = 0
    for index in range(start + 1, len(body)):
        if body[index] == "{":
            depth += 1
        elif body[index] == "}":
            if depth == 0:
                return body[start : index + 1]
            depth -= 1
    return body[start:]


def all_strings(value: Any) -> list[str]:
    """Every string value (and key) inside a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *all_strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in all_strings(item)]
    return []


class MockIdp:
    """A running mock: its URL, a JSON control client and the platform's public key."""

    def __init__(self, live: LiveServer):
        self.live = live
        self.url = live.url
        self.control = httpx.Client(base_url=live.url, timeout=30)
        key = self.control.get("/_mock/platform-key").json()
        self.platform_public_key_pem = key["public_key_pem"]
        self.platform_public_key = signing.load_public_key(key["public_key_pem"])

    def reset(self) -> None:
        response = self.control.post("/_mock/reset")
        assert response.status_code == 200, response.text

    def register_app(self, app_id: str, public_key: str, **options: Any) -> dict:
        response = self.control.post(
            "/_mock/apps", json={"app_id": app_id, "public_key": public_key, **options}
        )
        assert response.status_code in (200, 201), response.text
        return response.json()

    def auth_code(self, app_id: str, user_id: str = DEMO_USER_ID, scopes=("auth_user",)) -> str:
        response = self.control.post(
            "/_mock/auth-codes", json={"app_id": app_id, "user_id": user_id, "scopes": list(scopes)}
        )
        assert response.status_code == 201, response.text
        return response.json()["auth_code"]

    def add_fault(self, **fault: Any) -> dict:
        response = self.control.post("/_mock/faults", json=fault)
        assert response.status_code == 201, response.text
        return response.json()

    def settings(self, **changes: Any) -> dict:
        response = self.control.post("/_mock/settings", json=changes)
        assert response.status_code == 200, response.text
        return response.json()

    def trade(self, trade_no: str) -> dict:
        response = self.control.get(f"/_mock/trades/{trade_no}")
        assert response.status_code == 200, response.text
        return response.json()

    def pay(self, trade_no: str) -> httpx.Response:
        return self.control.post(f"/_mock/trades/{trade_no}/pay")

    def user(self, user_id: str) -> dict:
        response = self.control.get(f"/_mock/users/{user_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def notifications(self, **filters: str) -> list[dict]:
        response = self.control.get("/_mock/notifications", params=filters)
        assert response.status_code == 200, response.text
        return response.json()["notifications"]

    def wait_for_notifications(
        self, done: Callable[[list[dict]], bool], timeout: float = 10, **filters: str
    ) -> list[dict]:
        """Poll the notification list until `done(list)` holds; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.notifications(**filters)
            if done(found):
                return found
            assert time.monotonic() < deadline, f"notifications never got there: {found}"
            time.sleep(0.05)

    def set_credit(self, user_id: str, **credit: Any) -> httpx.Response:
        """`PUT /_mock/users/<user_id>/credit`: change a person's Zhima credit profile."""
        return self.control.put(f"/_mock/users/{user_id}/credit", json=credit)

    def confirm_freeze(self, order_str: str, **options: Any) -> httpx.Response:
        """What the payer's Confirm in the freeze cashier does (`user_id`, `notify` optional)."""
        return self.control.post(
            "/_mock/fund-auth/confirm", json={"order_str": order_str, **options}
        )

    def frozen(self, order_str: str, **options: Any) -> dict:
        """Confirm a freeze that must succeed; its answer."""
        response = self.confirm_freeze(order_str, **options)
        assert response.status_code == 200, response.text
        return response.json()

    def fund_auth(self, auth_no: str) -> dict:
        """A hold with its totals, operations and notifications."""
        response = self.control.get(f"/_mock/fund-auth/{auth_no}")
        assert response.status_code == 200, response.text
        return response.json()

    def app_client(self, app_id: str, private_key) -> SignedAppClient:
        """A signed client of the app; in certificate mode it sends the SNs of the app's files
        and verifies with its platform certificate's key."""
        shown = self.control.get(f"/_mock/apps/{app_id}")
        issued = shown.json().get("certificates") if shown.status_code == 200 else None
        if not issued:
            return SignedAppClient(self.url, app_id, private_key, self.platform_public_key)
        platform = certificates.public_key_of(certificates.load_certificate(issued["alipay_cert"]))
        sns = {key: issued[key] for key in ("app_cert_sn", "alipay_root_cert_sn")}
        return SignedAppClient(self.url, app_id, private_key, platform, cert_sns=sns)

    def reset_with_test_app(self, private_key, *, key_format: str = "pem", **options: Any):
        """Back to the seeded state with the test app registered (its key as PEM or base64)."""
        self.reset()
        public_key = signing.public_key_pem if key_format == "pem" else signing.public_key_base64
        self.register_app(TEST_APP_ID, public_key(private_key), **options)
        return self

    @contextmanager
    def test_app_client(self, private_key) -> Iterator[SignedAppClient]:
        """A signed client of the test app, closed afterwards."""
        client = self.app_client(TEST_APP_ID, private_key)
        try:
            yield client
        finally:
            client.close()

    def close(self) -> None:
        self.control.close()


FREEZE_METHOD = "alipay.fund.auth.order.app.freeze"


def freeze_biz(out_order_no: str = "dep_0001", amount: str = "3000.00", **changes: Any) -> dict:
    """A freeze orderStr's biz_content as Minifin builds it; a change to None drops a field."""
    biz = {
        "out_order_no": out_order_no,
        "out_request_no": out_order_no + "_freeze",
        "order_title": "充电宝押金",
        "amount": amount,
        "product_code": "PRE_AUTH_ONLINE",
        "pay_timeout": "15m",
        "extra_param": json.dumps(
            {"category": "RENT_PHONE", "serviceId": "2020042800000000000001"}
        ),
        **changes,
    }
    return {key: value for key, value in biz.items() if value is not None}


def freeze_order_str(private_key, biz: dict, *, app_id: str = TEST_APP_ID, **top: Any) -> str:
    """A signed, URL-encoded freeze orderStr, as GatewayClient.order_string makes one."""
    params = {
        "app_id": app_id,
        "method": FREEZE_METHOD,
        "format": "json",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": gateway_timestamp(),
        "version": "1.0",
        "biz_content": signing.compact_json(biz),
        **{key: value for key, value in top.items() if value is not None},
    }
    return urlencode(signing.sign_request(params, private_key))


def start_mock(data_dir, platform_private_key: str | None = None) -> tuple[LiveServer, MockIdp]:
    """Start a mock on a loopback port; stop the returned LiveServer when done."""
    live = LiveServer(create_mock_app(data_dir, platform_private_key=platform_private_key)).start()
    return live, MockIdp(live)


class NotificationReceiver:
    """A merchant's notify_url on a loopback port: keeps every POST, answers as scripted.

    Filter by `trade_no`: a retry of an earlier test's notification may still arrive.
    """

    def __init__(self):
        self.received: list[dict[str, Any]] = []
        self.gate = threading.Event()  # cleared: hold every answer until it is set again
        self.gate.set()
        self._answers: list[tuple[int, str]] = []
        self._arrived = threading.Condition()
        app = Flask("merchant_notify_url")
        app.add_url_rule("/notify", "notify", self._receive, methods=["POST"])
        self.live = LiveServer(app).start()
        self.url = self.live.url + "/notify"

    def answer(self, *answers: tuple[int, str]) -> None:
        """Answer the next POSTs with these (status, body) pairs, then with 200 `success`."""
        with self._arrived:
            self._answers = list(answers)

    def _receive(self):
        raw = request.get_data(as_text=True)  # read first: the form is then parsed from it
        with self._arrived:
            self.received.append(
                {
                    "form": request.form.to_dict(),
                    "content_type": request.content_type,
                    "raw": raw,
                    "at": time.time(),
                }
            )
            status, body = self._answers.pop(0) if self._answers else (200, "success")
            self._arrived.notify_all()
        self.gate.wait(timeout=30)
        return body, status, {"Content-Type": "text/plain"}

    def posts(self, trade_no: str) -> list[dict[str, Any]]:
        """The POSTs about one trade, in arrival order."""
        with self._arrived:
            return [entry for entry in self.received if entry["form"].get("trade_no") == trade_no]

    def wait_for(self, trade_no: str, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        """The first `count` POSTs about a trade, waiting for them to arrive."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.posts(trade_no)) >= count, timeout)
            assert arrived, f"{len(self.posts(trade_no))} of {count} notifications arrived"
            return self.posts(trade_no)[:count]

    def reset(self) -> None:
        with self._arrived:
            self.received.clear()
            self._answers = []
        self.gate.set()

    def stop(self) -> None:
        self.gate.set()
        self.live.stop()
