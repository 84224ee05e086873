"""Pure rules of the mock's protocol layer: business parameters, braces, timestamps, open ids."""

from __future__ import annotations

import json

import pytest

from service.mock_idp.grants import open_id_for, parse_scopes
from service.mock_idp.parameters import business_parameters, nested_object
from service.mock_idp.protocol import GatewayError, parse_timestamp
from service.mock_idp.responses import has_balanced_braces, without_unbalanced_braces


@pytest.mark.parametrize("params", [{}, {"biz_content": ""}, {"biz_content": "{}"}])
def test_absent_empty_and_empty_object_biz_content_mean_nothing(params):
    assert business_parameters(params) == {}


@pytest.mark.parametrize("text", ["not json", "[1]", '"a string"'])
def test_biz_content_that_is_not_an_object_is_an_invalid_parameter(text):
    with pytest.raises(GatewayError) as caught:
        business_parameters({"biz_content": text})
    assert (caught.value.code, caught.value.sub_code) == ("40002", "isv.invalid-parameter")


def test_a_nested_object_is_accepted_as_an_object_or_as_a_json_string():
    inner = {"identity_type": "CERT_INFO", "cert_name": "张伟"}
    as_object = {"identity_param": inner}
    as_string = {"identity_param": json.dumps(inner, ensure_ascii=False)}

    assert nested_object(as_object, "identity_param") == inner
    assert nested_object(as_string, "identity_param") == inner
    assert nested_object({}, "identity_param") is None


def test_a_required_nested_object_that_is_missing_or_malformed_is_refused():
    with pytest.raises(GatewayError) as missing:
        nested_object({}, "identity_param", required=True)
    with pytest.raises(GatewayError) as malformed:
        nested_object({"identity_param": "{not json"}, "identity_param")
    assert missing.value.code == "40001"
    assert malformed.value.sub_code == "isv.invalid-parameter"


@pytest.mark.parametrize(
    ("text", "balanced"),
    [("{}", True), ('a={"b":{"c":1}}', True), ("}{", False), ("{", False), ("plain", True)],
)
def test_brace_balance_follows_how_brace_counting_clients_read(text, balanced):
    assert has_balanced_braces(text) is balanced


def test_only_strings_with_unbalanced_braces_are_rewritten():
    value = {"ok": "x={}", "bad": "}{", "list": ["{"], "number": 3}
    assert without_unbalanced_braces(value) == {
        "ok": "x={}",
        "bad": "｝｛",
        "list": ["｛"],
        "number": 3,
    }


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2026-11-25 00:37:30", True),
        ("2026-11-25T00:37:30", False),
        ("2026-02-30 00:00:00", False),
        ("2026-11-25 00:37", False),
    ],
)
def test_timestamps_must_have_the_gateway_format(text, valid):
    assert (parse_timestamp(text) is not None) is valid


def test_open_ids_are_deterministic_per_app_and_user():
    assert open_id_for("app1", "2088000000000001") == open_id_for("app1", "2088000000000001")
    assert open_id_for("app1", "2088000000000001") != open_id_for("app2", "2088000000000001")
    assert open_id_for("app1", "2088000000000001").isalnum()


def test_scopes_are_parsed_from_lists_or_comma_separated_text():
    assert parse_scopes("auth_user,auth_base") == ("auth_base", "auth_user")
    assert parse_scopes(["auth_zhima"]) == ("auth_zhima",)
    with pytest.raises(ValueError):
        parse_scopes("auth_everything")
    with pytest.raises(ValueError):
        parse_scopes([])
