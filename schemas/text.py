"""The rules every text field of every schema shares, in one place each.

`PlainText` is the one validator for characters: every loadable string field of every schema
uses it (a test walks them all), so a new field cannot forget it. It refuses
- the C0 and C1 control characters (U+0000–U+001F, U+007F–U+009F), NUL included: they are
  invisible, break logs and terminals, and PostgreSQL refuses NUL outright (a 500 from the
  driver before this rule); a multi-line field keeps tab, line feed and carriage return;
- unpaired UTF-16 surrogates (U+D800–U+DFFF), which no encoder can write (the request boundary
  refuses them first, in service/http.py; this keeps schemas safe when used elsewhere);
- with `shown=True`, the bidirectional embedding, override and isolate controls
  (U+202A–U+202E, U+2066–U+2069) in text shown to another person (a gift's message, a template's
  name, a deposit's title), where they can make text read differently from what it says
  ("Trojan Source"). Ordinary formatting such as the zero-width joiner of emoji is kept.

`WholeNested` is the nested-object field of request schemas: a partial update (PATCH) validates
a nested object whole, so a cover without `name` can never be stored. `IanaTimeZone` accepts only
real zone names.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

from marshmallow import ValidationError, fields, validate

_CONTROLS = "\x00-\x1f\x7f-\x9f"
_LINE_CONTROLS_KEPT = "\t\n\r"
_SURROGATES = "\ud800-\udfff"
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"


class PlainText(validate.Validator):
    """Refuse control characters (and, for text shown to others, bidi controls).

    A field with a pattern of its own (a category, a mobile number) passes it as `pattern`:
    it is checked after the characters and published as the field's pattern instead.
    """

    def __init__(self, *, shown: bool = False, multiline: bool = False,
                 pattern: str | None = None, error: str | None = None):  # fmt: skip
        self.shown, self.multiline = shown, multiline
        self.pattern_error = error or "String does not match expected pattern."
        controls = _CONTROLS
        if multiline:
            controls = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # all but \t \n \r
        published = f"{controls}{_BIDI_CONTROLS if shown else ''}"
        self._refused = re.compile(f"[{published}{_SURROGATES}]")
        # What the document publishes as the field's `pattern` (apispec reads `regex`), so
        # clients and generated requests know the rule; the escapes are valid ECMA-262 too.
        # Surrogates are left out: they are not characters, and a JSON Schema pattern that
        # names them is one most validators cannot compile.
        plain = "^[^" + published.encode("unicode_escape").decode() + "]*$"
        self.own_pattern = pattern is not None
        self.regex = re.compile(pattern if pattern is not None else plain)

    def _repr_args(self) -> str:
        return f"shown={self.shown!r}, multiline={self.multiline!r}"

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        found = self._refused.search(value)
        if found:
            char = found.group()
            kind = "bidirectional control" if "\u202a" <= char <= "\u2069" else "control"
            raise ValidationError(
                f"Only plain text: U+{ord(char):04X} (a {kind} character) is not allowed."
            )
        if self.own_pattern and not self.regex.fullmatch(value):
            raise ValidationError(self.pattern_error)
        return value


def text(*, min_length: int | None = None, max_length: int, shown: bool = False,
         multiline: bool = False) -> list[validate.Validator]:  # fmt: skip
    """The validators of a text field: its length and PlainText."""
    return [
        validate.Length(min=min_length, max=max_length),
        PlainText(shown=shown, multiline=multiline),
    ]


class WholeNested(fields.Nested):
    """A nested object validated whole even inside a partial load (PATCH).

    marshmallow passes `partial=True` down to nested schemas, so a PATCH could store a cover
    without its required `name`; a nested object is a value, replaced whole, never patched.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, partial=None, **kwargs):
        return super()._deserialize(value, attr, data, partial=False, **kwargs)


@functools.cache
def iana_zone_names() -> frozenset[str]:
    """The zone names of the IANA database as the `tzdata` package lists them.

    The list, not the files: the zoneinfo folder also holds folders (`Asia`), `posixrules` and
    `Factory` (a placeholder zone whose abbreviation is "-00"), and a name is looked up as a
    path, so a lookup alone lets folders, over-long names and path tricks through (as OSErrors).
    """
    names = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return frozenset(names) - {"Factory"}


class IanaTimeZone(validate.Validator):
    """Only a zone name from the IANA database, e.g. `Asia/Shanghai`."""

    error = "Not a known IANA time zone (e.g. Asia/Shanghai)."

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or value not in iana_zone_names():
            raise ValidationError(self.error)
        return value
