"""What the API answers with: public shapes, kept apart from the tables and the inputs.

Inputs are the domain's own models (``CustomerIn``, ``CustomerPatch`` …), so that the API,
CSV import and console validate the same way; outputs are defined here, so that a column
added to a table never leaks into an answer by accident.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from regulars.domain.access import Actor
from regulars.services import accounts, queries
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
    id: int
    email: str
    name: str
    role: str
    locations: list[str]
    active: bool

    @classmethod
    def of(cls, s: accounts.StaffSummary) -> StaffOut:
        return cls(
            id=s.id,
            email=s.email,
            name=s.name,
            role=s.role,
            locations=list(s.locations),
            active=s.active,
        )


class ApiKeyOut(BaseModel):
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
        return cls(
            id=k.id,
            name=k.name,
            prefix=k.prefix,
            role=k.role,
            locations=list(k.locations) if k.locations is not None else None,
            permissions=list(k.permissions) if k.permissions is not None else None,
            created_at=k.created_at,
            created_by=k.created_by,
            revoked_at=k.revoked_at,
            last_used_at=k.last_used_at,
        )


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The key itself. Shown this once; store it safely.")


class _FromService(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CustomerSummaryOut(_FromService):
    id: int
    card_number: str | None
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    birthday: date | None
    city: str
    status: str
    home_location: str | None = Field(description="Location code.")
    last_visit_at: datetime | None


class CustomerProfileOut(CustomerSummaryOut):
    language: str
    preferred_channel: str | None
    quiet_start: time | None
    quiet_end: time | None
    owner_staff_id: int | None
    household_id: int | None
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime
    last_purchase_at: datetime | None
    purchase_count: int
    lifetime_spend: int = Field(description="Net spend in minor units (cents).")
    external_refs: dict[str, list[str]]


class HouseholdMemberOut(_FromService):
    id: int
    name: str
    relation: str
    birthday: date | None
    customer_id: int | None


class HouseholdOut(_FromService):
    id: int
    name: str
    members: list[HouseholdMemberOut]


class AssetOut(_FromService):
    id: int
    kind: str
    label: str
    model_code: str
    member_name: str | None
    acquired_on: date | None
    service_due_on: date | None
    details: dict[str, Any]


class PreferenceOut(_FromService):
    label: str
    value: str
    updated_at: datetime


class ConsentOut(_FromService):
    channel: str
    granted: bool
    at: datetime
    source: str


class TimelineEntryOut(_FromService):
    id: int
    type: str
    occurred_at: datetime
    location: str | None
    staff_id: int | None
    source: str
    external_id: str
    payload: dict[str, Any]


class CustomerOut(_FromService):
    """The 360° view: profile, household, assets, preferences, consents, notes, complaints."""

    profile: CustomerProfileOut
    household: HouseholdOut | None
    assets: list[AssetOut]
    preferences: list[PreferenceOut]
    consents: list[ConsentOut]
    recent_notes: list[TimelineEntryOut]
    open_complaints: list[TimelineEntryOut]

    @classmethod
    def of(cls, view: queries.Customer360) -> CustomerOut:
        return cls.model_validate(view)


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
    "AssetOut",
    "ConsentOut",
    "CreatedOut",
    "CustomerOut",
    "CustomerProfileOut",
    "CustomerSummaryOut",
    "ErrorOut",
    "HouseholdOut",
    "IngestOut",
    "ItemResultOut",
    "MeOut",
    "Page",
    "PreferenceOut",
    "StaffOut",
    "TimelineEntryOut",
]
