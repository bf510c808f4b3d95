"""The typed events of a customer's timeline.

Everything that happens to a customer is one event: a purchase at the till, a call, a survey
answer, a note the barista typed. Each event names where it came from (``source``) and that
system's own id for it (``external_id``); the pair is unique, so sending the same event twice
is harmless. Money is integer minor units (cents), never floats. Timestamps must carry a
time zone: a naive "09:40" is ambiguous across our locations, so it is refused.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic.dataclasses import dataclass as pydantic_dataclass

from regulars.domain.errors import FieldProblem, problems_from_pydantic

Name = Annotated[str, Field(min_length=1, max_length=200)]
#: A row's id as another row or a request names it: positive and within a 64-bit integer,
#: the widest id either database keeps, so a mistyped id is a named problem, not a crash.
RowId = Annotated[int, Field(gt=0, le=2**63 - 1)]
#: The same in an event, strictly a JSON integer: a till sending ``true`` or ``"42"`` or
#: ``42.0`` for a customer has a bug worth naming, not a guess (``true`` would be customer 1).
EventRef = Annotated[int, Field(gt=0, le=2**63 - 1, strict=True)]
Text = Annotated[str, Field(max_length=5000)]
Tag = Annotated[str, Field(min_length=1, max_length=40)]
#: Money in minor units, strictly an integer: ``3.5`` or ``"350"`` for a price is refused by
#: name rather than rounded or parsed (money is never a float here).
Minor = Annotated[
    int, Field(ge=0, le=10**12, strict=True, description="Money in minor units (cents).")
]


class Emotion(StrEnum):
    """How the customer felt at the end of a contact, as staff judged it."""

    unhappy = "unhappy"
    neutral = "neutral"
    happy = "happy"


class Channel(StrEnum):
    """Ways of reaching a customer."""

    email = "email"
    sms = "sms"
    phone = "phone"
    post = "post"
    webhook = "webhook"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class EventBase(_Strict):
    """What every event carries: identity, time, whom it concerns, where and who."""

    source: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.:-]+$")]
    external_id: Annotated[str, Field(min_length=1, max_length=120)]
    occurred_at: AwareDatetime
    customer_id: EventRef | None = None
    card_number: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    location: Annotated[str, Field(min_length=1, max_length=40)] | None = Field(
        default=None, description="Location code, e.g. CAFE-LIS."
    )
    staff_id: EventRef | None = None

    #: Event types that concern the whole business (a recall), not one customer.
    customer_optional: ClassVar[bool] = False

    @model_validator(mode="after")
    def _one_customer_reference(self) -> EventBase:
        if self.customer_id is not None and self.card_number is not None:
            raise ValueError("give customer_id or card_number, not both")
        if self.customer_id is None and self.card_number is None and not self.customer_optional:
            raise ValueError("customer_id or card_number is required")
        return self


@pydantic_dataclass(
    frozen=True, slots=True, config=ConfigDict(extra="forbid", str_strip_whitespace=True)
)
class PurchaseLine:
    """One line on a receipt; the line's net amount is what was really paid for it.

    A (pydantic) dataclass rather than a model: receipts arrive by the hundred thousand and
    a dataclass validates in half the time, with the same constraints and error messages.
    """

    sku: Name
    unit_price: Minor
    category: Annotated[str, Field(min_length=1, max_length=60)] = "general"
    description: Annotated[str, Field(max_length=200)] = ""
    quantity: Annotated[int, Field(gt=0, le=100_000, strict=True)] = 1
    discount: Minor = 0
    coupon_code: Annotated[str, Field(max_length=60)] | None = None

    def __post_init__(self) -> None:
        if self.discount > self.quantity * self.unit_price:
            raise ValueError("discount is larger than quantity × unit_price")

    @property
    def gross(self) -> int:
        return self.quantity * self.unit_price

    @property
    def net(self) -> int:
        return self.quantity * self.unit_price - self.discount  # gross − discount, one call


class Purchase(EventBase):
    type: Literal["purchase"] = "purchase"
    lines: Annotated[list[PurchaseLine], Field(min_length=1, max_length=500)]
    channel: Literal["in_store", "online", "phone", "app", "partner"] = "in_store"
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"

    @property
    def net_total(self) -> int:
        return sum(line.net for line in self.lines)

    @property
    def discounted(self) -> bool:
        return any(line.discount > 0 or line.coupon_code for line in self.lines)


@pydantic_dataclass(
    frozen=True, slots=True, config=ConfigDict(extra="forbid", str_strip_whitespace=True)
)
class ReturnLine:
    """Units of one sku brought back."""

    sku: Name
    quantity: Annotated[int, Field(gt=0, le=100_000, strict=True)] = 1


class Return(EventBase):
    """Goods brought back; references the purchase (same source) and the returned lines."""

    type: Literal["return"] = "return"
    purchase_external_id: Annotated[str, Field(min_length=1, max_length=120)]
    lines: Annotated[list[ReturnLine], Field(min_length=1, max_length=500)]
    reason: Annotated[str, Field(max_length=500)] = ""
    refund: Minor | None = Field(
        default=None,
        description="Net amount given back; computed pro rata from the purchase when omitted.",
    )


class Visit(EventBase):
    """The customer was at a location: a check-in at the counter, an appointment, a walk-in."""

    type: Literal["visit"] = "visit"
    kind: Literal["check_in", "walk_in", "appointment", "service"] = "check_in"


class Greeted(EventBase):
    """Staff confirm they greeted the customer in person for a moment (e.g. the birthday)."""

    type: Literal["greeted"] = "greeted"
    moment: Annotated[str, Field(min_length=1, max_length=60)] = "birthday"


class Call(EventBase):
    type: Literal["call"] = "call"
    direction: Literal["inbound", "outbound"] = "outbound"
    outcome: Literal["reached", "voicemail", "not_reached"] = "reached"
    emotion: Emotion | None = None
    notes: Text = ""
    duration_s: Annotated[int, Field(ge=0, le=86_400)] | None = None
    task_id: EventRef | None = None


class Message(EventBase):
    """An automated message the outbox sent (or failed to send)."""

    type: Literal["message"] = "message"
    channel: Channel
    status: Literal["sent", "failed", "dead"] = "sent"
    moment: Annotated[str, Field(max_length=60)] = ""
    subject: Annotated[str, Field(max_length=300)] = ""
    error: Annotated[str, Field(max_length=1000)] = ""


class SurveyAnswer(EventBase):
    type: Literal["survey_answer"] = "survey_answer"
    kind: Literal["nps", "csat"] = "nps"
    score: Annotated[int, Field(ge=0, le=10)]
    comment: Text = ""
    about_staff_id: EventRef | None = None
    touchpoint: Annotated[str, Field(max_length=60)] = ""

    @model_validator(mode="after")
    def _score_in_scale(self) -> SurveyAnswer:
        if self.kind == "csat" and not 1 <= self.score <= 5:
            raise ValueError("a CSAT score is 1 to 5")
        return self


class Ticket(EventBase):
    """A ticket opened or closed; category ``complaint`` is what the planner watches."""

    type: Literal["ticket"] = "ticket"
    ticket_id: Annotated[str, Field(min_length=1, max_length=120)]
    status: Literal["opened", "closed"] = "opened"
    category: Literal["complaint", "question", "service", "other"] = "complaint"
    subject: Annotated[str, Field(max_length=300)] = ""


class Referral(EventBase):
    type: Literal["referral"] = "referral"
    code: Annotated[str, Field(min_length=1, max_length=60)]
    friend_customer_id: EventRef | None = None
    friend_name: Annotated[str, Field(max_length=200)] = ""


class Note(EventBase):
    """A personal note: the barista's 20-second microconnection, kept for the next person."""

    type: Literal["note"] = "note"
    text: Annotated[str, Field(min_length=1, max_length=5000)]
    tags: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=40)]], Field(max_length=20)
    ] = []


class Goodwill(EventBase):
    """A gesture staff granted to make something right; the ledger books any points."""

    type: Literal["goodwill"] = "goodwill"
    points: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    credit: Minor = 0
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class Recall(EventBase):
    """A recall or notice for an asset model (a car model, a lens batch): concerns every owner."""

    type: Literal["recall"] = "recall"
    customer_optional: ClassVar[bool] = True
    asset_model: Annotated[str, Field(min_length=1, max_length=120)]
    title: Annotated[str, Field(min_length=1, max_length=300)]
    severity: Literal["info", "safety", "critical"] = "safety"
    status: Literal["open", "closed"] = "open"


class ConsentChanged(EventBase):
    type: Literal["consent"] = "consent"
    channel: Channel
    granted: bool
    how: Annotated[str, Field(max_length=120)] = ""


class TierChanged(EventBase):
    """Written by the loyalty engine: a member moved tier, used grace, or came close to the next."""

    type: Literal["tier"] = "tier"
    change: Literal["up", "down", "grace", "close_to_next", "enrolled"]
    tier_from: Annotated[str, Field(max_length=60)] | None = None
    tier_to: Annotated[str, Field(max_length=60)] | None = None
    program: Annotated[str, Field(max_length=60)] = ""
    detail: Annotated[str, Field(max_length=500)] = ""


class PointsExpiring(EventBase):
    """Written by the loyalty engine: points will expire on a date unless used."""

    type: Literal["points_expiring"] = "points_expiring"
    points: Annotated[int, Field(gt=0)]
    expires_on: date
    program: Annotated[str, Field(max_length=60)] = ""


class Merged(EventBase):
    """This customer absorbed a duplicate profile; both timelines are now one."""

    type: Literal["merged"] = "merged"
    merged_customer_id: EventRef


Event = Annotated[
    Purchase
    | Return
    | Visit
    | Greeted
    | Call
    | Message
    | SurveyAnswer
    | Ticket
    | Referral
    | Note
    | Goodwill
    | Recall
    | ConsentChanged
    | TierChanged
    | PointsExpiring
    | Merged,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
EVENT_TYPES: frozenset[str] = frozenset(
    {
        "purchase",
        "return",
        "visit",
        "greeted",
        "call",
        "message",
        "survey_answer",
        "ticket",
        "referral",
        "note",
        "goodwill",
        "recall",
        "consent",
        "tier",
        "points_expiring",
        "merged",
    }
)
ENVELOPE_FIELDS = frozenset(
    {
        "type",
        "source",
        "external_id",
        "occurred_at",
        "customer_id",
        "card_number",
        "location",
        "staff_id",
    }
)


def parse_event(raw: Any) -> Event | list[FieldProblem]:
    """Validate one incoming event; return it, or the problems that make it unacceptable."""
    if not isinstance(raw, dict):
        return [FieldProblem("", "an event is a JSON object")]
    kind = raw.get("type")
    if kind is None:
        return [FieldProblem("type", "is required")]
    if not isinstance(kind, str) or kind not in EVENT_TYPES:  # a list or object: no type
        allowed = ", ".join(sorted(EVENT_TYPES))
        return [FieldProblem("type", f"unknown event type {kind!r}; expected one of {allowed}")]
    try:
        return EVENT_ADAPTER.validate_python(raw)
    except ValidationError as error:
        return problems_from_pydantic(error, union_tags=EVENT_TYPES)


_PAYLOAD_EXCLUDE = set(ENVELOPE_FIELDS)


def payload_json(event: EventBase) -> str:
    """The same, already encoded as JSON (pydantic's fast serializer; ingest's hot path).

    The serializer is called directly with ``model_dump_json``'s defaults and one shared
    exclude set: the wrapper's keyword handling cost ingest as much as the encoding itself.
    """
    return event.__pydantic_serializer__.to_json(event, exclude=_PAYLOAD_EXCLUDE).decode()


def payload_of(event: EventBase) -> dict[str, Any]:
    """The type-specific part of an event, as stored beside the envelope columns."""
    return event.model_dump(mode="json", exclude=set(ENVELOPE_FIELDS))


def event_from_row(
    *,
    type: str,
    source: str,
    external_id: str,
    occurred_at: datetime,
    customer_id: int | None,
    location: str | None,
    staff_id: int | None,
    payload: dict[str, Any],
) -> Event:
    """Rebuild a typed event from what the store kept."""
    return EVENT_ADAPTER.validate_python(
        {
            **payload,
            "type": type,
            "source": source,
            "external_id": external_id,
            "occurred_at": occurred_at,
            "customer_id": customer_id,
            "location": location,
            "staff_id": staff_id,
        }
    )
