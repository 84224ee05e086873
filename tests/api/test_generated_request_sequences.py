"""Sequences of generated requests, chained by the document's OpenAPI links, conform to it.

Schemathesis' stateful mode builds a state machine from the links in /openapi.json
(service/openapi_links.py): a template a merchant created is fetched, patched and bought as a
gift; the gift is fetched, rescheduled and cancelled; the user from `GET /v1/me` is looked up
and credit-checked by the merchant. Each step's answer must match the document (status, content
type, body schema) and never be a 5xx. The run has a fixed budget and seed, so it fits CI's time
and replays the same sequences; it runs on both engines as part of the suite.
"""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from schemas.text import iana_zone_names
from service.openapi_links import LINKS
from tests.api.test_generated_requests import CONFORMANCE
from tests.conftest import bearer, engine_name
from tests.credit_helpers import consent
from tests.run_figures import report

schemathesis = pytest.importorskip("schemathesis")

# `format: url` fields (cover pictures, return URLs) take web addresses, as a real client sends
schemathesis.openapi.format(
    "url",
    st.builds("https://{}.example.com/{}".format,
              st.from_regex(r"[a-z][a-z0-9]{0,12}", fullmatch=True),
              st.from_regex(r"[A-Za-z0-9._~/-]{0,40}", fullmatch=True)),
)  # fmt: skip
schemathesis.openapi.format("iana-time-zone", st.sampled_from(sorted(iana_zone_names())))

# What the run must reach to count as getting past the first POST: a goal → answers that prove it
_GIFT = "/v1/gifts/{gift_id}"
MUST_REACH = {
    "a template created": {("POST", "/v1/voucher-templates", 201)},
    "a template changed": {("PATCH", "/v1/voucher-templates/{template_id}", 200)},
    "a gift bought": {("POST", "/v1/gifts", 201)},
    "a real gift's sub-resources": {  # 409: a real gift, not in a state that allows it
        ("GET", _GIFT, 200), ("PATCH", _GIFT, 200), ("PATCH", _GIFT, 409),
        ("POST", f"{_GIFT}/cancel", 200), ("POST", f"{_GIFT}/cancel", 409),
    },
    "a real user looked up by the merchant": {  # 404: a real user, not verified
        ("GET", "/v1/users/{user_id}/identity", 200), ("GET", "/v1/users/{user_id}/identity", 404),
        ("GET", "/v1/users/{user_id}/credit/checks", 200),
    },
    "a deposit started": {("POST", "/v1/credit/deposits", 201)},
    "a real deposit fetched": {("GET", "/v1/credit/deposits/{deposit_id}", 200)},
}  # fmt: skip


# The operations links start from or lead to: the stateless gate covers every operation alone,
# this one spends its budget going deep.
_CHAINED = {f"{method.upper()} {path}" for (path, method, _), links in LINKS.items()} | {
    f"{method.upper()} {target}" for links in LINKS.values() for _, target, method, _ in links
}


def _merchant_only(operation) -> bool:
    """Operations only a merchant client may call (their security names only `clientToken`)."""
    security = operation.definition.raw.get("security") or []
    return bool(security) and all(set(option) == {"clientToken"} for option in security)


def test_generated_sequences_follow_the_links_into_sub_resources(
    app, client, login, mock_idp, demo_users
):
    from tests.gifting_helpers import client_token

    user = login()
    # The deposit waiver rests on a consent the user granted through the platform's page
    consent(client, user["access_token"], mock_idp.url, demo_users[0]["user_id"], "deposit_waiver")
    tokens = {
        "user": bearer(user["access_token"]),
        "merchant": bearer(client_token(app, client, "templates:write", "vouchers:redeem",
                                        "identity:read", "credit:check", "deposits:settle")),
    }  # fmt: skip
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app).include(name=sorted(_CHAINED))
    schema.config.phases.stateful.inference.algorithms = []  # the document's links, no guesses
    reached: Counter[tuple[str, str, int]] = Counter()

    class Sequences(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            who = "merchant" if _merchant_only(case.operation) else "user"
            headers = dict(tokens[who])
            if case.headers and "Idempotency-Key" in case.headers:
                # a client makes a new key for each new request; a reused one is a replay
                headers["Idempotency-Key"] = str(uuid.uuid4())
            return {"headers": headers}

        def after_call(self, response, case):
            reached[(case.method.upper(), case.path, response.status_code)] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CONFORMANCE, transport_kwargs=kwargs)

    Sequences.run(
        settings=settings(
            max_examples=120,
            stateful_step_count=16,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    requests = sum(reached.values())
    operations = {(method, path) for method, path, _ in reached}
    report(f"stateful gate ({engine_name()}): {len(operations)} operations, {requests} requests")
    assert not {key for key in reached if key[2] >= 500}
    missing = sorted(goal for goal, answers in MUST_REACH.items() if not answers & set(reached))
    assert not missing, f"never reached: {missing}\nreached: {sorted(reached)}"


def test_every_link_in_the_document_leads_to_a_real_operation_and_its_inputs(client):
    """A link names an operation that exists, path parameters it has and body fields it takes."""
    document = client.get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    checked = 0
    for operations in document["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue  # a path's shared `parameters`
            for response in operation.get("responses", {}).values():
                for name, link in response.get("links", {}).items():
                    _, _, pointer = link["operationRef"].partition("#/paths/")
                    path, method = pointer.rsplit("/", 1)
                    path = path.replace("~1", "/").replace("~0", "~")
                    target = document["paths"][path][method]
                    for parameter in link.get("parameters", {}):
                        assert "{" + parameter + "}" in path, (name, parameter)
                    if "requestBody" in link:
                        reference = target["requestBody"]["content"]["application/json"]["schema"]
                        fields = schemas[reference["$ref"].rsplit("/", 1)[1]]["properties"]
                        assert set(link["requestBody"]) <= set(fields), name
                    checked += 1
    assert checked >= len(LINKS)
