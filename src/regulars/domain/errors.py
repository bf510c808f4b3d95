"""Errors the domain and services raise, each naming the field (or line) and the reason.

Every entry point (API, CSV import, CLI, program files) turns these into its own format:
a 4xx body, a report row, a red line in the terminal. None of them is ever a 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with an input: where (a dotted field path) and why, in plain words."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class RegularsError(Exception):
    """Base of every error a user can cause; carries a stable machine-readable code."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class InvalidInput(RegularsError):
    """The input broke one or more rules; nothing was written."""

    problems: list[FieldProblem] = field(default_factory=list)
    code = "invalid"
    http_status = 422

    def __post_init__(self) -> None:
        first = self.problems[0] if self.problems else FieldProblem("", "invalid input")
        RegularsError.__init__(self, "; ".join(str(p) for p in self.problems), field=first.field)

    def __str__(self) -> str:
        return self.message


class NotFound(RegularsError):
    """The thing asked for does not exist (or is outside what the caller may see)."""

    code = "not_found"
    http_status = 404


class Conflict(RegularsError):
    """The request contradicts what is already stored (a taken card number, a reused key)."""

    code = "conflict"
    http_status = 409


class Forbidden(RegularsError):
    """The caller may not do this; the message never reveals what lies behind the wall."""

    code = "forbidden"
    http_status = 403


def problems_from_pydantic(
    error: ValidationError, prefix: str = "", *, union_tags: frozenset[str] = frozenset()
) -> list[FieldProblem]:
    """Turn pydantic's errors into field problems a shop manager can read.

    ``union_tags`` are discriminator values pydantic puts into error paths (``purchase`` in
    ``purchase.lines.0.quantity``); users never typed them, so they are dropped.
    """
    problems: list[FieldProblem] = []
    for item in error.errors(include_url=False):
        loc = list(item["loc"])
        if loc and isinstance(loc[0], str) and loc[0] in union_tags:
            loc = loc[1:]
        parts = [str(p) for p in loc]
        path = ".".join(parts)
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        message = item["msg"]
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        problems.append(FieldProblem(path, message))
    return problems


def validate(model: type[M], data: Any, prefix: str = "") -> M:
    """Validate input against a model; InvalidInput names each bad field. Writes nothing."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(problems_from_pydantic(error, prefix)) from None
