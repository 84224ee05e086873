"""Webhooks cannot reach what they must not (OWASP API7): each refusal proved with a resolver
pointed at the address in question, and real loopback servers for redirects and large answers."""

from __future__ import annotations

import pytest

from service.webhooks import sender
from service.webhooks.ssrf import check_url, refusal
from tests.webhook_helpers import Answer, Receiver


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.stop()


def _post(url: str, *, allow_private: bool, resolves_to: list[str], calls: list | None = None,
          timeout: float = 5) -> sender.Outcome:  # fmt: skip
    def resolver(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append((host, port))
        return resolves_to

    with sender.new_client(allow_private=allow_private, resolver=resolver, timeout=timeout) as c:
        return sender.post(c, url, {"webhook-id": "evt_x"}, "{}", timeout)


@pytest.mark.parametrize(("address", "why"), [
    ("169.254.169.254", "metadata"),
    ("fd00:ec2::254", "metadata"),
    ("224.0.0.251", "multicast"),
    ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 (an address refused, not a bind)
    ("::", "unspecified"),
    ("240.0.0.7", "reserved"),
])  # fmt: skip
def test_addresses_refused_in_every_profile(address, why):
    assert why in (refusal(address, allow_private=True) or "")
    outcome = _post("http://hooks.merchant.example/x", allow_private=True, resolves_to=[address])
    assert outcome.status_code is None and why in (outcome.error or "")


@pytest.mark.parametrize(("address", "why"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.9", "private"), ("192.168.1.1", "private"),
    ("fd12:3456::1", "private"), ("100.64.0.1", "private"),
    ("169.254.10.10", "link-local"), ("fe80::1", "link-local"),
])  # fmt: skip
def test_private_networks_are_refused_unless_allowed(address, why):
    assert why in (refusal(address, allow_private=False) or "")
    assert refusal(address, allow_private=True) is None
    assert refusal("93.184.216.34", allow_private=False) is None  # a public address


def test_loopback_is_refused_before_anything_is_sent(receiver):
    outcome = _post(receiver.url, allow_private=False, resolves_to=["127.0.0.1"])
    assert "loopback" in (outcome.error or "") and receiver.requests == []


def test_one_bad_address_among_several_refuses_the_name(receiver):
    outcome = _post(f"http://hooks.merchant.example:{receiver.port}/x", allow_private=False,
                    resolves_to=["93.184.216.34", "10.0.0.1"])  # fmt: skip
    assert "private" in (outcome.error or "") and receiver.requests == []


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(receiver):
    calls: list = []
    outcome = _post(f"http://hooks.merchant.example:{receiver.port}/x", allow_private=True,
                    resolves_to=["127.0.0.1"], calls=calls)  # fmt: skip
    assert outcome.status_code == 200
    assert calls == [("hooks.merchant.example", receiver.port)]  # resolved once, pinned
    assert receiver.requests[0].headers["host"] == f"hooks.merchant.example:{receiver.port}"


def test_redirects_are_not_followed():
    target = Receiver()
    redirecting = Receiver(answer=lambda n: Answer(302, headers={"location": target.url}))
    try:
        outcome = _post(redirecting.url, allow_private=True, resolves_to=["127.0.0.1"])
        assert outcome.status_code == 302 and not outcome.succeeded
        assert target.requests == []
    finally:
        target.stop()
        redirecting.stop()


def test_a_large_answer_is_read_up_to_a_limit_and_its_first_kib_kept():
    huge = Receiver(answer=lambda n: Answer(200, body=b"a" * 4_000_000))
    try:
        outcome = _post(huge.url, allow_private=True, resolves_to=["127.0.0.1"])
        assert outcome.succeeded and outcome.body == "a" * 1024
    finally:
        huge.stop()


def test_a_slow_answer_is_a_timeout():
    slow = Receiver(answer=lambda n: Answer(200, delay=3))
    try:
        outcome = _post(slow.url, allow_private=True, resolves_to=["127.0.0.1"], timeout=0.5)
        assert outcome.status_code is None and "timed out" in (outcome.error or "")
        assert outcome.duration_ms < 2500
    finally:
        slow.stop()


@pytest.mark.parametrize(("url", "production", "why"), [
    ("http://hooks.merchant.example/x", True, "https"),
    ("https://user:secret@hooks.merchant.example/x", False, "credentials"),
    ("https://127.0.0.1/x", True, "loopback"),
    ("https://[::1]/x", True, "loopback"),
    ("https://169.254.169.254/x", False, "metadata"),
])  # fmt: skip
def test_urls_refused_at_registration(url, production, why):
    assert why in (check_url(url, require_https=production, allow_private=not production) or "")
    assert check_url("https://hooks.merchant.example/x", require_https=True,
                     allow_private=False) is None  # fmt: skip


def test_an_answer_is_kept_as_text_a_database_can_store():
    odd = Receiver(answer=lambda n: Answer(200, body=b"ok\x00\xff"))
    try:
        outcome = _post(odd.url, allow_private=True, resolves_to=["127.0.0.1"])
        assert outcome.body == "ok\ufffd\ufffd"  # PostgreSQL refuses NUL in text
    finally:
        odd.stop()
