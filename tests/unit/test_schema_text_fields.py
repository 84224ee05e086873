"""Every text field of every schema refuses control characters through one named validator
(schemas/text.PlainText), bidi controls where another person reads the text, and lone
surrogates; nested request objects are validated whole; time zones are IANA names only.

The walk over the schemas makes a new text field without PlainText fail here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields

import schemas
from schemas.common import BaseSchema
from schemas.gifting import GiftCreateSchema, VoucherTemplateUpdateSchema
from schemas.text import IanaTimeZone, PlainText, WholeNested, iana_zone_names

GENERATED = settings(
    max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
C0_C1 = [chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]]
LINE_CONTROLS = ["\t", "\n", "\r"]
BIDI = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]
SHOWN_TO_OTHERS = {
    ("VoucherTemplateSchema", "name"), ("VoucherTemplateSchema", "description"),
    ("CoverSchema", "name"), ("GiftCreateSchema", "message"), ("GiftCreateSchema", "cover"),
    ("DepositCreateSchema", "title"), ("ChargeSchema", "reason"),
}  # fmt: skip


def _all_schemas() -> list[type[Schema]]:
    for module in pkgutil.iter_modules(schemas.__path__):
        importlib.import_module(f"schemas.{module.name}")
    found, stack = [], [BaseSchema]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda cls: cls.__name__)


def _loadable_fields() -> Iterator[tuple[type[Schema], str, fields.Field, fields.Field]]:
    """(schema, name, field, the String inside it) for every text a request can carry."""
    for cls in _all_schemas():
        for name, field in cls().fields.items():
            if field.dump_only:
                continue
            inner = field.inner if isinstance(field, fields.List) else field
            if isinstance(inner, fields.String):
                yield cls, name, field, inner


TEXT_FIELDS = list(_loadable_fields())
TEXT_IDS = [f"{cls.__name__}.{name}" for cls, name, _f, _i in TEXT_FIELDS]


def _plain_text(inner: fields.Field) -> PlainText | None:
    return next((v for v in inner.validators if isinstance(v, PlainText)), None)


def test_the_walk_finds_the_text_fields_of_every_capability():
    names = set(TEXT_IDS)
    assert {"LoginSchema.auth_code", "GiftCreateSchema.message", "CoverSchema.name",
            "DepositCreateSchema.title", "VerificationCreateSchema.name",
            "ConsentCreateSchema.scopes", "RedemptionSchema.store_id"} <= names  # fmt: skip
    assert len(TEXT_FIELDS) > 30


@pytest.mark.parametrize(("cls", "name", "field", "inner"), TEXT_FIELDS, ids=TEXT_IDS)
def test_every_text_field_of_every_schema_uses_plain_text(cls, name, field, inner):
    validator = _plain_text(inner)
    assert validator is not None, f"{cls.__name__}.{name} needs schemas.text.PlainText"
    assert validator.shown == ((cls.__name__, name) in SHOWN_TO_OTHERS or any(
        (base.__name__, name) in SHOWN_TO_OTHERS for base in cls.__mro__
    ))


def test_every_nested_request_object_is_validated_whole():
    for cls in _all_schemas():
        for name, field in cls().fields.items():
            inner = field.inner if isinstance(field, fields.List) else field
            if isinstance(inner, fields.Nested) and not field.dump_only:
                assert isinstance(inner, WholeNested), f"{cls.__name__}.{name}"


def _refused_in(cls: type[Schema], name: str, field: fields.Field, text: str) -> bool:
    value = [text] if isinstance(field, fields.List) else text
    try:
        cls().load({field.data_key or name: value}, partial=True)
    except ValidationError as error:
        messages = error.messages.get(field.data_key or name)
        return "Only plain text" in repr(messages)
    return False


CLEAN = st.text(
    alphabet=st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="".join(BIDI)),
    max_size=8,
)


def _dirty(characters: list[str]):
    """Clean text with one of `characters` somewhere in it."""
    return st.tuples(CLEAN, st.sampled_from(characters), CLEAN).map("".join)


@given(data=st.data())
@GENERATED
def test_generated_control_characters_are_refused_in_every_text_field(data):
    cls, name, field, inner = data.draw(st.sampled_from(TEXT_FIELDS))
    refused = C0_C1 if not _plain_text(inner).multiline else sorted(set(C0_C1) - set(LINE_CONTROLS))
    text = data.draw(_dirty(refused))

    assert _refused_in(cls, name, field, text), (cls.__name__, name, text)


SURROGATES = [chr(c) for c in range(0xD800, 0xE000, 0x3F)]


@given(data=st.data())
@GENERATED
def test_generated_lone_surrogates_are_refused_in_every_text_field(data):
    cls, name, field, _inner = data.draw(st.sampled_from(TEXT_FIELDS))

    assert _refused_in(cls, name, field, data.draw(_dirty(SURROGATES)))


@given(data=st.data())
@GENERATED
def test_generated_bidi_controls_are_refused_exactly_in_text_shown_to_others(data):
    cls, name, field, inner = data.draw(st.sampled_from(TEXT_FIELDS))
    text = data.draw(_dirty(BIDI))

    assert _refused_in(cls, name, field, text) == _plain_text(inner).shown


@given(text=st.text())
@GENERATED
def test_plain_text_refuses_exactly_the_control_bidi_and_surrogate_characters(text):
    bad = set(C0_C1) | set(BIDI) | {chr(c) for c in range(0xD800, 0xE000)}
    try:
        PlainText(shown=True)(text)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == (not set(text) & bad)


def test_a_multi_line_message_keeps_its_line_breaks_and_emoji_joiners():
    loaded = GiftCreateSchema().load(
        {"template_id": "vtp_1", "quantity": 1, "recipient": {"link": True}, "cover": "thanks",
         "message": "生日快乐!\r\n\t👨\u200d👩\u200d👧"},
    )  # fmt: skip
    assert loaded["message"].endswith("👨\u200d👩\u200d👧")


def test_a_partial_update_validates_a_nested_cover_whole():
    schema = VoucherTemplateUpdateSchema(partial=True)
    with pytest.raises(ValidationError) as without_name:
        schema.load({"covers": [{"image_url": "https://example.com/a.svg"}]})
    with pytest.raises(ValidationError) as without_url:
        schema.load({"covers": [{"name": "thanks"}]})

    assert without_name.value.messages["covers"][0]["name"]
    assert without_url.value.messages["covers"][0]["image_url"]
    assert schema.load({"name": "Tea"}) == {"name": "Tea"}


@pytest.mark.parametrize(
    "name",
    ["Asia", "America", "x" * 300, "posixrules", "Factory", "localtime", "../../etc/passwd",
     "/etc/localtime", "Asia/../Asia/Shanghai", "Asia/Shanghai/", "asia/shanghai", "",
     "Asia/Shanghai\x00", "zone.tab", "tzdata.zi", "right/UTC", "posix/Asia/Shanghai"],
)  # fmt: skip
def test_only_real_iana_zone_names_are_time_zones(name):
    with pytest.raises(ValidationError):
        IanaTimeZone()(name)


@given(name=st.sampled_from(sorted(iana_zone_names())))
@GENERATED
def test_every_iana_zone_name_is_a_time_zone_python_can_load(name):
    from zoneinfo import ZoneInfo

    assert IanaTimeZone()(name) == name
    ZoneInfo(name)


@given(name=st.text(max_size=40))
@GENERATED
def test_any_other_text_is_not_a_time_zone(name):
    if name in iana_zone_names():
        return
    with pytest.raises(ValidationError):
        GiftCreateSchema().load(
            {"template_id": "vtp_1", "quantity": 1, "recipient": {"link": True},
             "cover": "thanks", "timezone": name}
        )  # fmt: skip
