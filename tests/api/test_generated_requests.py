"""Requests generated from the OpenAPI document never meet a 500 or an error that is not a problem.

Schemathesis reads /openapi.json and Hypothesis sends each operation many valid and invalid
bodies; whatever it sends, the answer is a success or a problem document below 500.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from tests.conftest import bearer, engine_name
from tests.run_figures import report

schemathesis = pytest.importorskip("schemathesis")


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_the_document_lists_every_operation(app):
    labels = {operation.label for operation in _operations(app)}
    assert {"POST /v1/sessions", "POST /v1/sessions/refresh", "GET /v1/me",
            "DELETE /v1/sessions/current", "POST /v1/oauth/token",
            "POST /v1/identity/verifications", "GET /v1/identity/verifications/{verification_id}",
            "POST /v1/identity/verifications/{verification_id}/cancel", "GET /v1/identity",
            "DELETE /v1/identity", "GET /v1/users/{user_id}/identity",
            "POST /v1/credit/consents", "GET /v1/credit/consents",
            "GET /v1/credit/consents/{consent_id}", "DELETE /v1/credit/consents/{consent_id}",
            "POST /v1/credit/checks", "GET /v1/credit/checks",
            "POST /v1/users/{user_id}/credit/checks", "GET /v1/users/{user_id}/credit/checks",
            "POST /v1/users/{user_id}/credit/score", "POST /v1/credit/deposits",
            "GET /v1/credit/deposits", "GET /v1/credit/deposits/{deposit_id}",
            "POST /v1/credit/deposits/{deposit_id}/release",
            "POST /v1/credit/deposits/{deposit_id}/charges"} <= labels  # fmt: skip


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_generated_requests_get_a_success_or_a_problem_never_a_server_error(app, mode):
    for operation in _operations(app):

        @given(case=operation.as_strategy(schemathesis.GenerationMode(mode)))
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def answers_well(case):
            response = case.call()
            assert response.status_code < 500, (case.method, case.path, response.text)
            if response.status_code >= 400:
                body = response.json()
                if case.path == "/v1/oauth/token" and response.status_code in {400, 401}:
                    # RFC 6749 §5.2: an OAuth error, with the problem members beside `error`
                    assert response.headers["content-type"] == ["application/json"]
                    assert body["error"]
                else:
                    assert response.headers["content-type"] == ["application/problem+json"]
                assert body["status"] == response.status_code

        try:
            answers_well()
        except Unsatisfiable:
            assert mode == "negative"  # nothing to get wrong: the operation takes no input


CONFORMANCE = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


def test_generated_requests_conform_to_the_document_for_a_user_and_a_merchant(app, client, login):
    """Every answer's status, content type and body are the ones the document publishes, for
    valid and invalid requests, with a user's token and with a merchant client's (all scopes).

    A fixed budget (derandomized, 10 examples per operation, mode and token) keeps it in CI's
    time; the run on each engine is the suite's own (SQLite, then PostgreSQL).
    """
    from tests.gifting_helpers import client_token

    tokens = {
        "user": bearer(login()["access_token"]),
        "merchant": bearer(client_token(app, client, "templates:write", "vouchers:redeem",
                                        "identity:read", "credit:check", "deposits:settle")),
    }  # fmt: skip
    failures: list[str] = []
    requests = [0]

    def conformance(operation, mode: str, who: str, headers: dict):
        @given(case=operation.as_strategy(schemathesis.GenerationMode(mode)))
        @settings(max_examples=10, deadline=None, derandomize=True, database=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
        def conforms(case):
            requests[0] += 1
            try:
                case.call_and_validate(headers=headers, checks=CONFORMANCE)
            except Exception as failure:  # schemathesis raises a group of failed checks
                failures.append(f"{case.method} {case.path} ({mode}, {who}): {failure}")

        return conforms

    for operation in _operations(app):
        for mode in ("positive", "negative"):
            for who, headers in tokens.items():
                try:
                    conformance(operation, mode, who, headers)()
                except Unsatisfiable:
                    assert mode == "negative"

    operations = len(_operations(app))
    report(f"conformance gate ({engine_name()}): {operations} operations, {requests[0]} requests")
    assert requests[0] > 1000
    assert not failures, "\n\n".join(failures[:10])
