"""Shared input conventions: strict, closed models whose errors never carry the input."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from pydantic_core import ErrorDetails

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

_SAFE_LOC = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")


class Input(BaseModel):
    """Base of every model fed by a user: unknown fields refused, values never echoed (G6)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, hide_input_in_errors=True)


@dataclass(frozen=True)
class Problem:
    """A refusal: which field, which rule, a message that names neither value nor text (G6)."""

    code: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message}


def field_path(loc: tuple[int | str, ...], *, unknown_key: bool = False) -> str:
    """Dotted path of a location. An unknown key is user input and could itself be an
    identity value, so it is never repeated; other parts must look like field names."""
    parts = [str(p) if isinstance(p, int) or _SAFE_LOC.match(p) else "?" for p in loc]
    if unknown_key and parts:
        parts[-1] = "(okänt fält)"
    return ".".join(parts) or "(dokument)"


def _message(error: ErrorDetails) -> str:
    if error["type"] == "union_tag_invalid":  # pydantic quotes the offending tag
        return f"unknown kind; expected one of: {error['ctx']['expected_tags']}"
    if error["type"] == "uuid_parsing":  # pydantic quotes an offending character
        return "not a valid UUID"
    return error["msg"]


def problems_from(error: ValidationError) -> list[Problem]:
    """Translate pydantic errors into problems; `input` is dropped, messages name the rule."""
    return [
        Problem(
            code=e["type"],
            field=field_path(tuple(e["loc"]), unknown_key=e["type"] == "extra_forbidden"),
            message=_message(e),
        )
        for e in error.errors(include_input=False, include_url=False)
    ]


@dataclass
class Rejected(Exception):
    """Input refused; nothing was stored. Carries problems that never echo a value (G6)."""

    problems: list[Problem]
    source: str = ""

    @classmethod
    def one(cls, code: str, field: str, message: str) -> Rejected:
        """A refusal for one rule."""
        return cls([Problem(code, field, message)])

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return where + "; ".join(f"{p.field}: {p.message} [{p.code}]" for p in self.problems)
