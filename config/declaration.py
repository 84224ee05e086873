"""How a setting is declared: once, as a field of `Settings`, with everything known about it.

A field's name gives the variable (`access_token_ttl` is `MINIFIN_ACCESS_TOKEN_TTL`), its type
annotation the parsing, and `setting(...)` the rest: the default in each profile, the range or
pattern a value must match, what it means. The schema that checks values at start
(`config.schema`), the defaults of each profile (`config.profiles`) and the README's table
(`config.reference`) are all read from these declarations, so a setting cannot be documented,
defaulted and parsed in three places that drift apart.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

PROFILES = ("dev", "test", "production")

TEXT, URL, LIST, KEY = "text", "url", "list", "key"
"""Forms: plain text (or a number, a flag, a path: the annotation says), a URL, a
comma-separated list, or an RSA key given inline, as a `_FILE`, or found at its default path."""

INSTANCE_DIR = "{instance_dir}"
"""In a default, the instance directory the process resolved (for files kept there)."""

_METADATA_KEY = "minifin_setting"


@dataclass(frozen=True)
class Declaration:
    """Everything about one `MINIFIN_*` setting but its name and type (the field has those)."""

    meaning: str
    defaults: Mapping[str, str | None]
    form: str = TEXT
    validate: Callable[[Any], Any] | None = None
    item: Callable[[Any], Any] | None = None
    required: bool = True
    required_in: tuple[str, ...] = ()
    unset: str = "none"
    note: str = ""


@dataclass(frozen=True)
class Declared:
    """A declaration with the field it belongs to: attribute, variable and annotated type."""

    attribute: str
    annotation: Any
    declaration: Declaration

    @property
    def variable(self) -> str:
        return variable_name(self.attribute)

    def default_in(self, profile: str) -> str | None:
        return self.declaration.defaults.get(profile)


def variable_name(attribute: str) -> str:
    return f"MINIFIN_{attribute.upper()}"


def setting(
    meaning: str,
    *,
    default: str | None = None,
    profiles: Mapping[str, str | None] | None = None,
    form: str = TEXT,
    validate: Callable[[Any], Any] | None = None,
    item: Callable[[Any], Any] | None = None,
    required: bool = True,
    required_in: tuple[str, ...] = (),
    unset: str = "none",
    note: str = "",
) -> Any:
    """Declare a `Settings` field as a `MINIFIN_*` setting.

    `default` applies in every profile and `profiles` changes it for some (None: no default
    there). A `required` setting with no value stops the start; one that is not required reads
    as "" when unset (`unset` says what that means, for the README). `required_in` names the
    profiles whose checks at start (`config.validation`) refuse an unset value although the
    schema lets it be empty. `note` follows the default in the README (`30 days`). A `KEY`
    setting is never shown: its field is left out of the settings' repr.
    """
    defaults = {profile: default for profile in PROFILES}
    defaults.update(profiles or {})
    declaration = Declaration(
        meaning=meaning,
        defaults=defaults,
        form=form,
        validate=validate,
        item=item,
        required=required,
        required_in=required_in,
        unset=unset,
        note=note,
    )
    return dataclasses.field(metadata={_METADATA_KEY: declaration}, repr=form != KEY)


def declared(settings_class: type) -> Iterator[Declared]:
    """The declared settings of a settings class, in declaration order."""
    hints = typing.get_type_hints(settings_class)
    for field in dataclasses.fields(settings_class):
        declaration = field.metadata.get(_METADATA_KEY)
        if declaration is not None:
            yield Declared(field.name, hints[field.name], declaration)
