"""Bad text, bad time zones and partial updates through the API: a 422 problem, never a 500,
and no sequence of accepted PATCHes leaves a template that breaks the published schema."""

from __future__ import annotations

import secrets

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import bearer
from tests.credit_helpers import start_deposit
from tests.gifting_helpers import COFFEE, buy, client_token, order

PATCHES = settings(
    max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None
)


def _assert_422(response, field: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert field in repr(response.get_json()["errors"])


@pytest.fixture
def merchant(app, client):
    return bearer(client_token(app, client, "templates:write"))


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b[31m", "\x85", "\x9f"])
def test_control_characters_in_a_template_are_refused(client, merchant, bad):
    named = {**COFFEE, "name": f"Tea{bad}"}
    _assert_422(client.post("/v1/voucher-templates", json=named, headers=merchant), "name")
    covers = [{"name": f"a{bad}", "image_url": "https://cdn.example.com/a.png"}]
    _assert_422(
        client.post("/v1/voucher-templates", json={**COFFEE, "covers": covers}, headers=merchant),
        "covers",
    )


@pytest.mark.parametrize("bidi", ["\u202e", "\u202a", "\u2066", "\u2069"])
def test_bidi_controls_in_text_another_person_reads_are_refused(
    client, merchant, template, people, bidi
):
    named = {**COFFEE, "name": f"{bidi}eT"}
    _assert_422(client.post("/v1/voucher-templates", json=named, headers=merchant), "name")
    message = order(template, people, message=f"hi {bidi}gnp.exe")
    _assert_422(buy(client, people, message), "message")


@pytest.mark.parametrize("bad", ["\x00", "\u202e"])
def test_a_deposit_title_with_a_control_or_bidi_character_is_refused(client, login, bad):
    user = login()["access_token"]
    _assert_422(start_deposit(client, user, title=f"押金{bad}"), "title")


def test_a_nul_in_a_store_id_is_refused_before_any_voucher_is_looked_up(app, client):
    till = bearer(client_token(app, client, "vouchers:redeem"))
    response = client.post(
        "/v1/vouchers/ABCD1234ABCD1234/redemptions",
        json={"store_id": "store\x007"},
        headers={**till, "Idempotency-Key": secrets.token_hex(8)},
    )
    _assert_422(response, "store_id")


@pytest.mark.parametrize(
    "zone",
    ["Asia", "x" * 300, "posixrules", "Factory", "../../../../etc/passwd", "/etc/localtime",
     "Asia/../Asia/Shanghai", "localtime", "Asia/Shanghai\x00"],
)  # fmt: skip
def test_a_gift_with_a_time_zone_that_is_not_an_iana_name_is_a_422(
    client, template, people, zone
):
    _assert_422(buy(client, people, order(template, people, timezone=zone)), "timezone")


def test_a_gift_with_a_real_time_zone_is_accepted(client, template, people):
    response = buy(client, people, order(template, people, timezone="Asia/Shanghai"))
    assert response.status_code == 201, response.get_data(as_text=True)


@pytest.mark.parametrize(
    "covers",
    [[{"image_url": "https://cdn.example.com/a.png"}], [{"name": "thanks"}], [{}]],
)
def test_a_patch_with_a_cover_missing_its_name_or_image_is_a_422(
    client, merchant, template, covers
):
    response = client.patch(
        f"/v1/voucher-templates/{template['id']}", json={"covers": covers}, headers=merchant
    )

    _assert_422(response, "covers")
    stored = client.get(f"/v1/voucher-templates/{template['id']}", headers=merchant).get_json()
    assert stored["covers"] == template["covers"]


def _response_validator(client, path: str, method: str, status: str):
    spec = client.get("/openapi.json").get_json()
    schema = spec["paths"][path][method]["responses"][status]["content"]["application/json"]
    document = {**schema["schema"], "components": spec["components"]}
    return jsonschema_rs.Draft202012Validator(document)


COVER = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["birthday", "thanks", "congrats"]),
        "image_url": st.just("https://cdn.example.com/x.png"),
    },
)
# Mostly values a merchant would send, so most PATCHes are accepted and build on each other;
# now and then one that must be refused.
VALID = {
    "name": st.sampled_from(["Tea", "Latte"]),
    "description": st.sampled_from([None, "Two cups"]),
    "price_fen": st.sampled_from([1, 2900]),
    "face_value_fen": st.sampled_from([3200, 5000]),
    "covers": st.lists(COVER, min_size=1, max_size=3),
    "active": st.booleans(),
    "validity_days": st.sampled_from([1, 90]),
}
REFUSED = {
    "name": st.sampled_from(["", None]),
    "description": st.just("x" * 501),
    "price_fen": st.sampled_from([0, None, 10_000]),
    "covers": st.sampled_from([[], None]),
    "validity_days": st.just(0),
}
PATCH_BODY = st.fixed_dictionaries({}, optional=VALID) | st.fixed_dictionaries(
    {}, optional={**VALID, **REFUSED}
)


@given(patches=st.lists(PATCH_BODY, min_size=1, max_size=6))
@PATCHES
def test_after_any_sequence_of_accepted_patches_the_template_matches_the_published_schema(
    client, merchant, patches
):
    created = client.post("/v1/voucher-templates", json=COFFEE, headers=merchant).get_json()
    path = f"/v1/voucher-templates/{created['id']}"
    matches = _response_validator(client, "/v1/voucher-templates/{template_id}", "get", "200")

    for body in patches:
        response = client.patch(path, json=body, headers=merchant)
        assert response.status_code in {200, 422}, response.get_data(as_text=True)
        stored = client.get(path, headers=merchant)
        assert stored.status_code == 200
        matches.validate(stored.get_json())
        assert all(cover.get("name") and cover.get("image_url")
                   for cover in stored.get_json()["covers"])  # fmt: skip
