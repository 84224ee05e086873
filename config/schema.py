"""The marshmallow schema that parses and checks the `MINIFIN_*` variables, built from the
declarations in `config.settings`.

Field names are the settings' attribute names; `data_key` is the variable, so a validation
message names the variable the operator has to fix. Keys are not in it: they are read as text
(inline, `_FILE` or a default path) and checked by `config.validation`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from marshmallow import EXCLUDE, Schema, fields
from webargs.fields import DelimitedList

from config.declaration import KEY, LIST, URL, Declared, declared
from config.settings import Settings

_BY_TYPE: dict[object, type[fields.Field]] = {
    str: fields.String,
    Path: fields.String,
    int: fields.Integer,
    float: fields.Float,
    bool: fields.Boolean,
}


def _field(item: Declared) -> fields.Field:
    declaration = item.declaration
    options: dict[str, Any] = {"data_key": item.variable}  # keyword arguments of a Field
    if declaration.validate is not None:
        options["validate"] = declaration.validate
    if declaration.required:
        options["required"] = True
    else:
        options["load_default"] = ""
    if declaration.form == URL:
        return fields.Url(require_tld=False, **options)
    if declaration.form == LIST:
        return DelimitedList(fields.String(validate=declaration.item), **options)
    return _BY_TYPE[item.annotation](**options)


@cache
def _schema_class() -> type[Schema]:
    """Built once: the declarations do not change while the process runs."""
    return Schema.from_dict(
        {
            item.attribute: _field(item)
            for item in declared(Settings)
            if item.declaration.form != KEY
        },
        name="SettingsSchema",
    )


def settings_schema() -> Schema:
    """A schema that loads the variables' text into the settings' values (unknown ones left)."""
    return _schema_class()(unknown=EXCLUDE)
