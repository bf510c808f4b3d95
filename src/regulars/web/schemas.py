"""What the API answers with: public shapes, kept apart from the tables and the inputs.

Inputs are the domain's own models (``CustomerIn``, ``CustomerPatch`` …), so that the API,
CSV import and console validate the same way. Outputs are defined here, so that a column
added to a table never leaks into an answer by accident, except where a service already
answers with such a shape: customers, their 360° view and timeline are the read side's own
dataclasses (``services.queries``), which name every field they show.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from regulars.domain.access import Actor
from regulars.services import accounts
from regulars.services.ingest import IngestReport

T = TypeVar("T")


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. invalid, not_found.")
    message: str
    field: str | None = Field(default=None, description="The field (or header) at fault.")
    problems: list[dict[str, str]] | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next page."""

    items: list[T]
    next_cursor: str | None = None


class MeOut(BaseModel):
    kind: str
    id: int | None
    name: str
    role: str | None
    locations: list[int] | None = Field(description="Location ids; null: the whole business.")
    permissions: list[str] | None = Field(description="null: everything the role allows.")

    @classmethod
    def of(cls, actor: Actor) -> MeOut:
        return cls(
            kind=actor.kind,
            id=actor.id,
            name=actor.name,
            role=actor.role.value if actor.role else None,
            locations=sorted(actor.locations) if actor.locations is not None else None,
            permissions=sorted(actor.permissions) if actor.permissions is not None else None,
        )


class StaffOut(BaseModel):
    """A member of staff as the API shows them (whether they have a password stays private)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: str
    locations: list[str]
    active: bool

    @classmethod
    def of(cls, s: accounts.StaffSummary) -> StaffOut:
        return cls.model_validate(s)


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    role: str
    locations: list[str] | None
    permissions: list[str] | None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, k: accounts.ApiKeySummary) -> ApiKeyOut:
        return cls.model_validate(k)


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The key itself. Shown this once; store it safely.")


class CreatedOut(BaseModel):
    id: int


class ItemResultOut(BaseModel):
    index: int
    status: Literal["created", "duplicate", "rejected"]
    event_id: int | None = None
    errors: list[dict[str, str]] = []


class IngestOut(BaseModel):
    """A verdict per submitted event, in the order they were sent."""

    created: int
    duplicates: int
    rejected: int
    results: list[ItemResultOut]

    @classmethod
    def of(cls, report: IngestReport) -> IngestOut:
        return cls(
            created=report.created,
            duplicates=report.duplicates,
            rejected=report.rejected,
            results=[ItemResultOut.model_validate(r.as_dict()) for r in report.results],
        )


__all__ = [
    "ApiKeyCreatedOut",
    "ApiKeyOut",
    "CreatedOut",
    "ErrorOut",
    "IngestOut",
    "ItemResultOut",
    "MeOut",
    "Page",
    "StaffOut",
]
