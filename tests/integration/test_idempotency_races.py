"""Requests racing on one Idempotency-Key never get a 5xx, on both engines.

The steps are interleaved deterministically: the first request (A) takes the key; the second
(B) finds it taken and pauses right there, between its refused insert and its read of the
record, while A finishes (a validation failure, or a crash that drops the record). On
PostgreSQL that read used to find the record gone and answer a 500; on SQLite B's refused
insert holds the write lock, so A waits for B instead and B sees A still running (a 409).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from service import idempotency as idempotency_module
from service.auth.clients import create_client
from service.gifting import templates as template_use_cases
from tests.conftest import bearer, migrated_app
from tests.gifting_helpers import COFFEE

KEY = "race-1"


@pytest.fixture
def racing_app(app_env, any_database_url) -> Iterator:
    with migrated_app(app_env, any_database_url) as application:
        yield application


@pytest.fixture
def merchant(racing_app) -> dict[str, str]:
    with racing_app.app_context():
        client, secret = create_client("back office", ["templates:write"])
    token = racing_app.test_client().post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client.id, "client_secret": secret},
    ).get_json()["access_token"]
    return bearer(token)


class Interleaving:
    """Pauses injected at the exact points of the race, per thread name ("A" or "B")."""

    def __init__(self, monkeypatch):
        self.a_has_the_key = threading.Event()
        self.b_found_it_taken = threading.Event()
        self.a_is_done = threading.Event()
        real_insert = idempotency_module.insert_ignoring_conflicts
        real_finish, real_forget = idempotency_module._finish, idempotency_module._forget

        def insert(*args, **kwargs):
            inserted = real_insert(*args, **kwargs)
            name = threading.current_thread().name
            if name == "A" and inserted:
                self.a_has_the_key.set()
            if name == "B" and not inserted and not self.b_found_it_taken.is_set():
                self.b_found_it_taken.set()
                self.a_is_done.wait(3)  # on SQLite A is blocked by our lock: go on after 3 s
            return inserted

        def ending(real):
            def end(*args, **kwargs):
                if threading.current_thread().name == "A":
                    self.b_found_it_taken.wait(10)
                try:
                    return real(*args, **kwargs)
                finally:
                    if threading.current_thread().name == "A":
                        self.a_is_done.set()

            return end

        monkeypatch.setattr(idempotency_module, "insert_ignoring_conflicts", insert)
        monkeypatch.setattr(idempotency_module, "_finish", ending(real_finish))
        monkeypatch.setattr(idempotency_module, "_forget", ending(real_forget))

    def race(self, app, first: dict, second: dict, headers: dict) -> tuple:
        answers: dict[str, object] = {}

        def post(name: str, body: dict) -> None:
            response = app.test_client().post(
                "/v1/voucher-templates", json=body, headers={**headers, "Idempotency-Key": KEY}
            )
            answers[name] = response

        a = threading.Thread(target=post, args=("A", first), name="A")
        a.start()
        assert self.a_has_the_key.wait(10)
        b = threading.Thread(target=post, args=("B", second), name="B")
        b.start()
        a.join(30)
        b.join(30)
        return answers["A"], answers["B"]


def test_a_request_racing_one_that_fails_validation_gets_its_4xx_or_a_409_never_a_5xx(
    racing_app, merchant, monkeypatch
):
    invalid = {**COFFEE, "name": ""}

    first, second = Interleaving(monkeypatch).race(racing_app, invalid, invalid, merchant)

    assert first.status_code == 422
    assert second.status_code in {409, 422}, second.get_data(as_text=True)
    if second.status_code == 422:
        assert second.get_json() == first.get_json()
        assert second.headers["Idempotent-Replayed"] == "true"
    else:
        assert second.get_json()["code"] == "idempotency_request_in_progress"
        assert second.headers["Retry-After"]
    replayed = racing_app.test_client().post(
        "/v1/voucher-templates", json=invalid, headers={**merchant, "Idempotency-Key": KEY}
    )
    assert replayed.status_code == 422 and replayed.headers["Idempotent-Replayed"] == "true"


@pytest.mark.server_error_expected
def test_a_request_racing_one_that_crashed_runs_itself_or_gets_a_409_never_a_5xx(
    racing_app, merchant, monkeypatch
):
    real_create = template_use_cases.create_template

    def crashing_for_a(values):
        if threading.current_thread().name == "A":
            raise RuntimeError("the first attempt crashes")
        return real_create(values)

    monkeypatch.setattr(template_use_cases, "create_template", crashing_for_a)

    first, second = Interleaving(monkeypatch).race(racing_app, COFFEE, COFFEE, merchant)

    assert first.status_code == 500  # A's own crash; its key is dropped so a retry may run
    assert second.status_code in {201, 409}, second.get_data(as_text=True)
    retried = racing_app.test_client().post(
        "/v1/voucher-templates", json=COFFEE, headers={**merchant, "Idempotency-Key": KEY}
    )
    assert retried.status_code == 201


def test_many_requests_sharing_a_key_with_a_failing_first_never_get_a_5xx(racing_app, merchant):
    start = threading.Barrier(8)
    statuses: list[int] = []

    def post(body: dict) -> None:
        start.wait(10)
        response = racing_app.test_client().post(
            "/v1/voucher-templates", json=body, headers={**merchant, "Idempotency-Key": "many"}
        )
        statuses.append(response.status_code)
        if response.status_code == 409:
            assert response.headers["Retry-After"]

    bodies = [{**COFFEE, "name": ""}] * 4 + [COFFEE] * 4
    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(statuses) == 8
    assert all(status < 500 for status in statuses), statuses
