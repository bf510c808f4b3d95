"""The read side: a customer's profile and 360° view, search, and the timeline.

Every function takes the actor and goes through ``services.access`` first, so a page or an
endpoint built on these can never show a customer from another location. Results are plain
frozen dataclasses naming each field they show, so a column added to a table never leaks
into an answer: the console renders them, and the API answers with them as they are.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import Connection, and_, or_, select

from regulars.domain.access import Actor
from regulars.domain.customers import (
    name_key,
    normalise_card_number,
    normalise_email,
    normalise_phone,
)
from regulars.domain.errors import FieldProblem, InvalidInput
from regulars.domain.events import EVENT_TYPES
from regulars.services.access import access_customer, customers_in_scope, require
from regulars.store.tables import (
    assets,
    consents,
    customer_refs,
    customers,
    events,
    household_members,
    households,
    locations,
    preferences,
)
from regulars.store.uow import UnitOfWork

MAX_PAGE = 200
#: The longest first or last name the customers table holds (a search cursor carries both).
NAME_MAX = 120


@dataclass(frozen=True)
class CustomerSummary:
    """Enough to pick the right customer from a list of matches."""

    id: int
    card_number: str | None
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    birthday: date | None
    city: str
    status: str
    home_location: Annotated[str | None, Field(description="Location code.")]
    last_visit_at: datetime | None


@dataclass(frozen=True)
class CustomerProfile(CustomerSummary):
    """The full profile row, with the codes and refs a person would want to read."""

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
    lifetime_spend: Annotated[int, Field(description="Net spend in minor units (cents).")]
    external_refs: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class HouseholdMember:
    id: int
    name: str
    relation: str
    birthday: date | None
    customer_id: int | None


@dataclass(frozen=True)
class Household:
    id: int
    name: str
    members: tuple[HouseholdMember, ...]


@dataclass(frozen=True)
class Asset:
    id: int
    kind: str
    label: str
    model_code: str
    member_name: str | None
    acquired_on: date | None
    service_due_on: date | None
    details: dict[str, Any]


@dataclass(frozen=True)
class Preference:
    label: str
    value: str
    updated_at: datetime


@dataclass(frozen=True)
class Consent:
    channel: str
    granted: bool
    at: datetime
    source: str


@dataclass(frozen=True)
class TimelineEntry:
    """One event on the timeline as stored: envelope columns plus the type's own payload."""

    id: int
    type: str
    occurred_at: datetime
    location: str | None
    staff_id: int | None
    source: str
    external_id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class TimelinePage:
    entries: tuple[TimelineEntry, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class Customer360:
    """Everything the counter and the phone need at a glance."""

    profile: CustomerProfile
    household: Household | None
    assets: tuple[Asset, ...]
    preferences: tuple[Preference, ...]
    consents: tuple[Consent, ...]
    recent_notes: tuple[TimelineEntry, ...]
    open_complaints: tuple[TimelineEntry, ...]


# -- single customer -------------------------------------------------------------------


def get_customer(uow: UnitOfWork, actor: Actor, customer_id: int) -> CustomerProfile:
    """The profile of one customer the actor may see (NotFound otherwise)."""
    require(actor, "customers:read")
    with uow:
        access_customer(uow.conn, actor, customer_id)
        return _profile(uow.conn, customer_id)


def customer_360(uow: UnitOfWork, actor: Actor, customer_id: int, *, notes: int = 5) -> Customer360:
    """Profile, household, assets, preferences, consents, recent notes, open complaints."""
    require(actor, "customers:read")
    with uow:
        conn = uow.conn
        access_customer(conn, actor, customer_id)
        profile = _profile(conn, customer_id)
        return Customer360(
            profile=profile,
            household=_household(conn, profile.household_id),
            assets=_assets(conn, customer_id),
            preferences=_preferences(conn, customer_id),
            consents=_consents(conn, customer_id),
            recent_notes=tuple(
                _entries(
                    conn,
                    select_timeline()
                    .where(events.c.customer_id == customer_id, events.c.type == "note")
                    .order_by(events.c.occurred_at.desc(), events.c.id.desc())
                    .limit(notes),
                )
            ),
            open_complaints=_open_complaints(conn, customer_id),
        )


# -- search ----------------------------------------------------------------------------


def search_customers(
    uow: UnitOfWork,
    actor: Actor,
    q: str | None = None,
    *,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    card_number: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> list[CustomerSummary]:
    """Find customers by any of name, e-mail, phone or card number (``q`` tries them all).

    Names match by prefix of first name, last name or "first last"; the others exactly,
    after the same normalisation as on the way in (so "+351 912 345 678" finds "+351912345678").
    ``q`` is tried as a card number, an e-mail and a phone number first (each an indexed
    lookup) and as a name only when none of those matches, so a scanned card at a busy
    counter never waits for a name search. Merged duplicates are left out; their card
    numbers resolve to the kept customer.

    Results come in the order (last name, first name, id). ``cursor`` continues after the
    match ``search_cursor`` was given (keyset paging, not an offset): customers enrolled,
    renamed or merged between two pages never make another match come twice or be skipped.
    """
    require(actor, "customers:read")
    # One more than a page is allowed: the API asks for it to learn whether a next page exists.
    limit = max(1, min(limit, MAX_PAGE + 1))
    after = _read_search_cursor(cursor) if cursor else None
    conditions = []
    if name:
        conditions.append(_name_match(name))
    if email:
        conditions.append(_email_match(email, strict=True))
    if phone:
        conditions.append(_phone_match(phone, strict=True))
    if card_number:
        conditions.append(_card_match(card_number, strict=True))
    base = _summary_select().where(
        customers_in_scope(actor), customers.c.status != "merged", *conditions
    )
    with uow:
        conn = uow.conn
        if q is not None and q.strip():
            stages = _q_stages(q.strip())
            chosen = stages[-1]
            for stage in stages[:-1]:
                if conn.execute(base.where(stage).limit(1)).first() is not None:
                    chosen = stage
                    break
            base = base.where(chosen)
        if after is not None:
            base = base.where(_after(*after))
        query = base.order_by(customers.c.last_name, customers.c.first_name, customers.c.id).limit(
            limit
        )
        return [_summary(row) for row in conn.execute(query).mappings()]


def search_cursor(last: CustomerSummary) -> str:
    """The cursor for the page after ``last`` (the final match of a page), opaque to clients."""
    raw = json.dumps([last.last_name, last.first_name, last.id], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_search_cursor(cursor: str) -> tuple[str, str, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        last_name, first_name, last_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not (
            _cursor_name(last_name)
            and _cursor_name(first_name)
            and isinstance(last_id, int)
            and not isinstance(last_id, bool)
            and 0 < last_id < 2**63  # what the id column can hold
        ):
            raise ValueError("not a search position")
        return last_name, first_name, last_id
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise InvalidInput(
            [FieldProblem("cursor", "not a cursor this API gave out; start from the first page")]
        ) from None


def _cursor_name(value: object) -> bool:
    """A name as the customers table can hold it (PostgreSQL text refuses NUL)."""
    return isinstance(value, str) and len(value) <= NAME_MAX and "\x00" not in value


def _after(last_name: str, first_name: str, last_id: int) -> Any:
    """Strictly after (last name, first name, id) in the search order; the same comparison
    the database sorts by, so it holds under any collation."""
    c = customers.c
    return or_(
        c.last_name > last_name,
        and_(
            c.last_name == last_name,
            or_(c.first_name > first_name, and_(c.first_name == first_name, c.id > last_id)),
        ),
    )


def _q_stages(q: str) -> list[Any]:
    """What free text may be, most specific first; a name prefix last."""
    stages: list[Any] = []
    if any(ch.isdigit() for ch in q):
        for matcher in (_card_match, _phone_match):
            condition = matcher(q, strict=False)
            if condition is not None:
                stages.append(condition)
    if "@" in q:
        condition = _email_match(q, strict=False)
        if condition is not None:
            stages.append(condition)
    stages.append(_name_match(q))
    return stages


def find_by_card(uow: UnitOfWork, actor: Actor, card_number: str) -> CustomerSummary | None:
    """The customer holding a card (or whose merged duplicate held it), for the counter."""
    require(actor, "customers:read")
    try:
        card = normalise_card_number(card_number)
    except ValueError:
        return None
    with uow:
        row = (
            uow.conn.execute(
                _summary_select().where(customers_in_scope(actor), _card_match(card, strict=True))
            )
            .mappings()
            .first()
        )
    return _summary(row) if row is not None else None


def _name_match(text: str) -> Any:
    words = name_key(text).split()
    if not words:
        return customers.c.id.is_(None)
    whole = " ".join(words)
    first, last = customers.c.search_first, customers.c.search_last
    options: list[Any] = [_starts(first, whole), _starts(last, whole)]
    if len(words) >= 2:
        options.append(and_(_starts(first, words[0]), _starts(last, " ".join(words[1:]))))
    return or_(*options)


def _starts(column: Any, prefix: str) -> Any:
    """``column`` begins with ``prefix``, as a range both SQLite and PostgreSQL index.

    The name keys compare byte by byte (BINARY on SQLite, collation "C" on PostgreSQL), so
    the strings starting with "ana" are exactly those from "ana" up to, not including, "anb".
    """
    following = ord(prefix[-1]) + 1
    if following > sys.maxunicode:
        return column >= prefix
    if 0xD800 <= following <= 0xDFFF:  # surrogates are not characters; skip past them
        following = 0xE000
    return and_(column >= prefix, column < prefix[:-1] + chr(following))


def _email_match(text: str, *, strict: bool) -> Any:
    try:
        value = normalise_email(text)
    except ValueError:
        if strict:
            raise InvalidInput([FieldProblem("email", "not an e-mail address")]) from None
        return None
    # as stored (the domain lower-cased), or all lower-case: both found through the index
    return customers.c.email.in_(sorted({value, value.lower()}))


def _phone_match(text: str, *, strict: bool) -> Any:
    try:
        value = normalise_phone(text)
    except ValueError as error:
        if strict:
            raise InvalidInput([FieldProblem("phone", str(error))]) from None
        return None
    return customers.c.phone == value


def _card_match(text: str, *, strict: bool) -> Any:
    try:
        card = normalise_card_number(text)
    except ValueError as error:
        if strict:
            raise InvalidInput([FieldProblem("card_number", str(error))]) from None
        return None
    merged_holder = (
        select(customer_refs.c.customer_id)
        .where(customer_refs.c.source == "card", customer_refs.c.external_id == card)
        .scalar_subquery()
    )
    return or_(customers.c.card_number == card, customers.c.id == merged_holder)


# -- timeline --------------------------------------------------------------------------


def timeline(
    uow: UnitOfWork,
    actor: Actor,
    customer_id: int,
    *,
    types: Sequence[str] = (),
    limit: int = 50,
    cursor: str | None = None,
) -> TimelinePage:
    """The customer's events, newest first; ``types`` filters; ``cursor`` continues a page."""
    require(actor, "customers:read")
    unknown = sorted(set(types) - EVENT_TYPES)
    if unknown:
        raise InvalidInput(
            [
                FieldProblem(
                    "type",
                    f"unknown event type {unknown[0]!r}; expected one of "
                    f"{', '.join(sorted(EVENT_TYPES))}",
                )
            ]
        )
    limit = max(1, min(limit, MAX_PAGE))
    query = select_timeline().where(events.c.customer_id == customer_id)
    if types:
        query = query.where(events.c.type.in_(sorted(set(types))))
    if cursor:
        at, last_id = _read_cursor(cursor)
        query = query.where(
            or_(
                events.c.occurred_at < at,
                and_(events.c.occurred_at == at, events.c.id < last_id),
            )
        )
    query = query.order_by(events.c.occurred_at.desc(), events.c.id.desc()).limit(limit + 1)
    with uow:
        access_customer(uow.conn, actor, customer_id)
        entries = _entries(uow.conn, query)
    more = len(entries) > limit
    entries = entries[:limit]
    next_cursor = _write_cursor(entries[-1]) if more and entries else None
    return TimelinePage(tuple(entries), next_cursor)


def select_timeline() -> Any:
    """The columns of a timeline entry (location as its code)."""
    return select(
        events.c.id,
        events.c.type,
        events.c.occurred_at,
        locations.c.code.label("location"),
        events.c.staff_id,
        events.c.source,
        events.c.external_id,
        events.c.payload,
    ).select_from(events.outerjoin(locations, locations.c.id == events.c.location_id))


def _write_cursor(entry: TimelineEntry) -> str:
    raw = f"{entry.occurred_at.isoformat()}|{entry.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at_text, id_text = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        at = datetime.fromisoformat(at_text)
        last_id = int(id_text)
        if at.tzinfo is None or not 0 < last_id < 2**63:  # what the id column can hold
            raise ValueError("not a timeline position")
        return at, last_id
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidInput(
            [FieldProblem("cursor", "not a cursor this API gave out; start from the first page")]
        ) from None


# -- helpers ---------------------------------------------------------------------------


def _summary_select() -> Any:
    return select(
        customers,
        locations.c.code.label("home_location"),
    ).select_from(customers.outerjoin(locations, locations.c.id == customers.c.home_location_id))


def _summary(row: Any) -> CustomerSummary:
    return CustomerSummary(
        id=row["id"],
        card_number=row["card_number"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        email=row["email"],
        phone=row["phone"],
        birthday=row["birthday"],
        city=row["city"],
        status=row["status"],
        home_location=row["home_location"],
        last_visit_at=row["last_visit_at"],
    )


def _profile(conn: Connection, customer_id: int) -> CustomerProfile:
    row = conn.execute(_summary_select().where(customers.c.id == customer_id)).mappings().one()
    refs: dict[str, list[str]] = {}
    for source, external_id in conn.execute(
        select(customer_refs.c.source, customer_refs.c.external_id)
        .where(customer_refs.c.customer_id == customer_id)
        .order_by(customer_refs.c.source, customer_refs.c.external_id)
    ):
        refs.setdefault(source, []).append(external_id)
    base = _summary(row)
    return CustomerProfile(
        **base.__dict__,
        language=row["language"],
        preferred_channel=row["preferred_channel"],
        quiet_start=row["quiet_start"],
        quiet_end=row["quiet_end"],
        owner_staff_id=row["owner_staff_id"],
        household_id=row["household_id"],
        merged_into_id=row["merged_into_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_purchase_at=row["last_purchase_at"],
        purchase_count=row["purchase_count"],
        lifetime_spend=row["lifetime_spend"],
        external_refs=refs,
    )


def _household(conn: Connection, household_id: int | None) -> Household | None:
    if household_id is None:
        return None
    row = conn.execute(select(households).where(households.c.id == household_id)).first()
    if row is None:
        return None
    members = tuple(
        HouseholdMember(m.id, m.name, m.relation, m.birthday, m.customer_id)
        for m in conn.execute(
            select(household_members)
            .where(household_members.c.household_id == household_id)
            .order_by(household_members.c.id)
        )
    )
    return Household(row.id, row.name, members)


def _assets(conn: Connection, customer_id: int) -> tuple[Asset, ...]:
    rows = conn.execute(
        select(assets, household_members.c.name.label("member_name"))
        .select_from(
            assets.outerjoin(household_members, household_members.c.id == assets.c.member_id)
        )
        .where(assets.c.customer_id == customer_id)
        .order_by(assets.c.id)
    ).mappings()
    return tuple(
        Asset(
            r["id"],
            r["kind"],
            r["label"],
            r["model_code"],
            r["member_name"],
            r["acquired_on"],
            r["service_due_on"],
            dict(r["details"] or {}),
        )
        for r in rows
    )


def _preferences(conn: Connection, customer_id: int) -> tuple[Preference, ...]:
    return tuple(
        Preference(r.label, r.value, r.updated_at)
        for r in conn.execute(
            select(preferences)
            .where(preferences.c.customer_id == customer_id)
            .order_by(preferences.c.label)
        )
    )


def _consents(conn: Connection, customer_id: int) -> tuple[Consent, ...]:
    return tuple(
        Consent(r.channel, bool(r.granted), r.at, r.source)
        for r in conn.execute(
            select(consents)
            .where(consents.c.customer_id == customer_id)
            .order_by(consents.c.channel)
        )
    )


def _entries(conn: Connection, query: Any) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            id=r.id,
            type=r.type,
            occurred_at=r.occurred_at,
            location=r.location,
            staff_id=r.staff_id,
            source=r.source,
            external_id=r.external_id,
            payload=dict(r.payload or {}),
        )
        for r in conn.execute(query)
    ]


def _open_complaints(conn: Connection, customer_id: int) -> tuple[TimelineEntry, ...]:
    """Complaint tickets whose latest event is an opening (closed ones drop out)."""
    tickets = _entries(
        conn,
        select_timeline()
        .where(events.c.customer_id == customer_id, events.c.type == "ticket")
        .order_by(events.c.occurred_at, events.c.id),
    )
    latest: dict[str, TimelineEntry] = {}
    for entry in tickets:
        latest[str(entry.payload.get("ticket_id"))] = entry
    return tuple(
        sorted(
            (
                e
                for e in latest.values()
                if e.payload.get("status") == "opened" and e.payload.get("category") == "complaint"
            ),
            key=lambda e: e.occurred_at,
            reverse=True,
        )
    )


__all__ = [
    "Asset",
    "Consent",
    "Customer360",
    "CustomerProfile",
    "CustomerSummary",
    "Household",
    "HouseholdMember",
    "Preference",
    "TimelineEntry",
    "TimelinePage",
    "customer_360",
    "find_by_card",
    "get_customer",
    "search_cursor",
    "search_customers",
    "select_timeline",
    "timeline",
]
