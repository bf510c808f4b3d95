"""Check-in: the customer is at the counter; record the visit and say what to say.

A card scan (or a name picked from a search) records a ``visit`` and returns, in one
answer, what the person at the counter should know right now: it is her birthday (or her
husband's), the prompts the planner left for the next visit, tier news, the usual order,
fresh personal notes, an open complaint. It runs a handful of indexed queries, because the
customer is standing there. Marking "greeted" is one more call, and it is what lets (or
stops) the automated greeting later that day.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Connection, bindparam, select, update

from regulars.domain.access import Actor
from regulars.domain.customers import celebrated_birthday, normalise_card_number
from regulars.domain.errors import FieldProblem, InvalidInput, NotFound, validate
from regulars.domain.moments import MomentKind, birthday_keys
from regulars.services.access import access_customer, require, require_location
from regulars.services.ingest import append_events
from regulars.store import audit, lookups
from regulars.store.moment_queries import member_alive, open_complaints
from regulars.store.planner_tables import staff_tasks
from regulars.store.tables import customers, events, household_members, locations, preferences
from regulars.store.uow import UnitOfWork

NOTES_FRESH_DAYS = 90
EXTERNAL_ID_MAX = 120  # events.external_id
TIER_NEWS_DAYS = 30


class CheckInIn(BaseModel):
    """A check-in as the console or a till sends it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    card_number: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    customer_id: Annotated[int, Field(gt=0)] | None = None
    location: Annotated[str, Field(min_length=1, max_length=40)]
    staff_id: Annotated[int, Field(gt=0)] | None = None
    at: AwareDatetime | None = None
    request_id: Annotated[str, Field(min_length=1, max_length=100)] | None = None

    @model_validator(mode="after")
    def _one_reference(self) -> CheckInIn:
        if (self.card_number is None) == (self.customer_id is None):
            raise ValueError("give card_number or customer_id (one of them)")
        return self


class GreetedIn(BaseModel):
    """A "greeted" tap names a moment the planner knows: a misspelt one would close no
    prompt and release no held-back greeting, while telling the counter it had."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    moment: MomentKind = MomentKind.birthday
    staff_id: Annotated[int, Field(gt=0)] | None = None


def check_in(
    uow: UnitOfWork, actor: Actor, data: Any, *, now: datetime, leap_rule: str = "feb28"
) -> dict[str, Any]:
    """Record the visit and return what the counter should know now (see module docstring).

    What the counter is told is read first, in a read-only transaction: on SQLite the write
    lock is then held only for the visit's own short write, so tills checking in at the same
    moment do not queue behind each other's reads. (The visit itself changes nothing the
    counter is told.)
    """
    require(actor, "planner:write")
    request = validate(CheckInIn, data)
    at = request.at or now
    with UnitOfWork(uow.engine, readonly=True) as reader:
        conn = reader.conn
        place = conn.execute(_PLACE, {"code": request.location}).first()
        if place is None:
            raise InvalidInput([FieldProblem("location", f"unknown location {request.location!r}")])
        require_location(actor, place.id)
        customer_id = _resolve(conn, request)
        access_customer(conn, actor, customer_id)
        view = counter_view(conn, customer_id, at=at, zone=str(place.timezone), leap_rule=leap_rule)
    external_id = _visit_key(request, customer_id, at)
    visit = {
        "type": "visit",
        "kind": "check_in",
        "source": "checkin",
        "external_id": external_id,
        "occurred_at": at.isoformat(),
        "customer_id": customer_id,
        "location": request.location,
    }
    staff_id = request.staff_id or (actor.id if actor.kind == "staff" else None)
    if staff_id is not None:
        visit["staff_id"] = staff_id
    with uow:
        conn = uow.conn
        report, _ = append_events(conn, [visit], now=now)
        result = report.results[0]
        if result.status == "rejected":
            raise InvalidInput(list(result.errors))
        checkin_id = result.event_id
        if checkin_id is None:  # a retried request: the same visit, already on record
            checkin_id = conn.scalar(_VISIT_BY_KEY, {"external_id": external_id})
        uow.commit()
    return {"checkin_id": checkin_id, "duplicate": result.status == "duplicate", **view}


# The counter's statements are built once: building them per scan cost more than running them.
_PLACE = select(locations.c.id, locations.c.timezone).where(locations.c.code == bindparam("code"))
_VISIT_BY_KEY = select(events.c.id).where(
    events.c.source == "checkin", events.c.external_id == bindparam("external_id")
)
_PERSON = select(
    customers.c.first_name,
    customers.c.last_name,
    customers.c.birthday,
    customers.c.household_id,
    customers.c.status,
).where(customers.c.id == bindparam("customer_id"))
_HOUSEHOLD = select(
    household_members.c.name, household_members.c.relation, household_members.c.customer_id
).where(
    household_members.c.household_id == bindparam("household_id"),
    household_members.c.birthday_key.in_(bindparam("keys", expanding=True)),
    member_alive(),
)
_PROMPTS = select(staff_tasks.c.id, staff_tasks.c.moment, staff_tasks.c.summary).where(
    staff_tasks.c.customer_id == bindparam("customer_id"),
    staff_tasks.c.kind == "in_person",
    staff_tasks.c.status == "open",
    staff_tasks.c.due_on <= bindparam("today"),
    staff_tasks.c.valid_until >= bindparam("today"),
)
_USUAL = (
    select(preferences.c.label, preferences.c.value)
    .where(preferences.c.customer_id == bindparam("customer_id"))
    .order_by(preferences.c.label)
)
_TIMELINE_BITS = (
    select(events.c.type, events.c.occurred_at, events.c.payload)
    .where(
        events.c.customer_id == bindparam("customer_id"),
        events.c.occurred_at >= bindparam("since"),
        events.c.occurred_at <= bindparam("until"),
        events.c.type.in_(["note", "tier", "greeted"]),
    )
    .order_by(events.c.occurred_at.desc())
)


def _visit_key(request: CheckInIn, customer_id: int, at: datetime) -> str:
    """The visit's idempotency key: one till's retry of one scan is one visit.

    A ``request_id`` is the till's own number, so it is kept apart per location and
    customer: two tills that both number their requests 0001 record two visits, and neither
    is answered with the other customer's check-in. (A key longer than the column keeps a
    digest of the request id.)
    """
    if request.request_id is None:
        return f"{customer_id}:{request.location}:{at.isoformat()}"
    key = f"{request.location}:{customer_id}:{request.request_id}"
    if len(key) > EXTERNAL_ID_MAX:
        digest = hashlib.sha256(request.request_id.encode()).hexdigest()[:40]
        key = f"{request.location}:{customer_id}:{digest}"
    return key


def _resolve(conn: Connection, request: CheckInIn) -> int:
    """The live customer behind a card or id, as ingest resolves it: the old card or id of a
    merged duplicate reaches the customer it was merged into (along a chain of merges)."""
    if request.customer_id is not None:
        ref = lookups.customers_by_id(conn, [request.customer_id]).get(request.customer_id)
        if ref is None or ref.status == "erased":
            raise NotFound("no such customer", field="customer_id")
        return ref.id
    try:
        card = normalise_card_number(request.card_number or "")
    except ValueError as error:
        raise InvalidInput([FieldProblem("card_number", str(error))]) from None
    ref = lookups.customers_by_card(conn, [card]).get(card)
    if ref is None or ref.status == "erased":
        raise NotFound("no customer has this card", field="card_number")
    return ref.id


def counter_view(
    conn: Connection, customer_id: int, *, at: datetime, zone: str, leap_rule: str = "feb28"
) -> dict[str, Any]:
    """What the person at the counter should know about this customer at ``at``."""
    row = conn.execute(_PERSON, {"customer_id": customer_id}).one()
    today = at.astimezone(ZoneInfo(zone)).date()
    first = str(row.first_name)
    prompts: list[str] = []
    moments: list[str] = []  # the moment each prompt is about, which a "greeted" tap closes
    # The card of someone who has died (a widow still uses it) prompts no greeting.
    greets = row.status != "deceased"
    birthday_today = (
        greets
        and row.birthday is not None
        and celebrated_birthday(row.birthday, today.year, leap_rule) == today
    )
    if birthday_today:
        prompts.append(f"It is {first}'s birthday today: wish them a happy birthday.")
        moments.append("birthday")
    household = (
        _household_birthdays(conn, row.household_id, customer_id, today, leap_rule)
        if greets
        else []
    )
    for name, relation in household:
        prompts.append(f"It is {name}'s birthday today ({first}'s {relation}): ask after them.")
        moments.append("household_birthday")
    tasks = list(conn.execute(_PROMPTS, {"customer_id": customer_id, "today": today}))
    said = {"birthday": birthday_today, "household_birthday": bool(household)}
    for _, moment, summary in tasks:
        if said.get(str(moment)):
            continue  # already said above, in words for today
        prompts.append(f"Mention: {summary}")
        moments.append(str(moment))
    complaints = open_complaints(conn, [customer_id]).get(customer_id, {})
    notes, tier_news, greeted = _timeline_bits(conn, customer_id, at, today, zone)
    usual = {
        str(label): str(value)
        for label, value in conn.execute(_USUAL, {"customer_id": customer_id})
        if not str(label).startswith("date:")
    }
    return {
        "customer_id": customer_id,
        "name": f"{first} {row.last_name or ''}".strip(),
        "status": str(row.status),
        "birthday_today": birthday_today,
        "household_birthdays": [{"name": n, "relation": r} for n, r in household],
        "prompts": prompts,
        "prompt_moments": moments,
        "prompt_task_ids": [int(tid) for tid, _, _ in tasks],
        "greeted_today": sorted(greeted),
        "tier_news": tier_news,
        "preferences": usual,
        "notes": notes,
        "open_complaints": [
            {"ticket_id": ticket, "subject": subject} for ticket, subject in complaints.items()
        ],
    }


def _household_birthdays(
    conn: Connection, household_id: int | None, customer_id: int, today: date, leap_rule: str
) -> list[tuple[str, str]]:
    if household_id is None:
        return []
    keys = list(birthday_keys(today, leap_rule))
    rows = conn.execute(_HOUSEHOLD, {"household_id": household_id, "keys": keys})
    return [(str(n), str(r)) for n, r, cid in rows if cid != customer_id]


def _timeline_bits(
    conn: Connection, customer_id: int, at: datetime, today: date, zone: str
) -> tuple[list[dict[str, Any]], list[str], set[str]]:
    """Fresh notes (newest first), recent tier news, and moments greeted today; one query."""
    window = {
        "customer_id": customer_id,
        "since": at - timedelta(days=NOTES_FRESH_DAYS),
        "until": at + timedelta(minutes=1),
    }
    rows = conn.execute(_TIMELINE_BITS, window)
    notes: list[dict[str, Any]] = []
    news: list[str] = []
    greeted: set[str] = set()
    local = ZoneInfo(zone)
    for kind, when, payload in rows:
        data = payload if isinstance(payload, dict) else {}
        if kind == "note" and len(notes) < 5:
            notes.append({"at": when.isoformat(), "text": str(data.get("text", ""))})
        elif kind == "tier" and when >= at - timedelta(days=TIER_NEWS_DAYS) and not news:
            news.append(_tier_words(data))
        elif kind == "greeted" and when.astimezone(local).date() == today:
            greeted.add(str(data.get("moment", "birthday")))
    return notes, [n for n in news if n], greeted


def _tier_words(data: dict[str, Any]) -> str:
    change, to = data.get("change"), data.get("tier_to") or ""
    return {
        "up": f"Moved up to {to}: congratulate them.",
        "down": f"Now {to}: be kind about it.",
        "grace": f"Keeping {data.get('tier_from') or to} on grace this year.",
        "close_to_next": f"Close to {to}: {data.get('detail') or 'a few more visits'}.",
        "enrolled": f"New member ({to}).",
    }.get(str(change), "")


def mark_greeted(
    uow: UnitOfWork, actor: Actor, checkin_id: int, data: Any, *, now: datetime
) -> dict[str, Any]:
    """Staff confirm they greeted the customer at this check-in; one ``greeted`` event.

    Idempotent per check-in and moment; the counter prompts for that moment are done.
    """
    require(actor, "planner:write")
    request = validate(GreetedIn, data or {})
    with uow:
        conn = uow.conn
        e = events.c
        visit = conn.execute(
            select(e.customer_id, e.location_id, e.staff_id, e.type).where(e.id == checkin_id)
        ).first()
        if visit is None or visit.type != "visit" or visit.customer_id is None:
            raise NotFound("no such check-in", field="checkin_id")
        access_customer(conn, actor, int(visit.customer_id))
        code = conn.scalar(select(locations.c.code).where(locations.c.id == visit.location_id))
        greeted: dict[str, Any] = {
            "type": "greeted",
            "moment": request.moment.value,
            "source": "checkin",
            "external_id": f"greeted:{checkin_id}:{request.moment.value}",
            "occurred_at": now.isoformat(),
            "customer_id": int(visit.customer_id),
        }
        if code is not None:
            greeted["location"] = str(code)
        staff_id = request.staff_id or (actor.id if actor.kind == "staff" else visit.staff_id)
        if staff_id is not None:
            greeted["staff_id"] = int(staff_id)
        report, _ = append_events(conn, [greeted], now=now)
        if report.results[0].status == "rejected":
            raise InvalidInput(list(report.results[0].errors))
        t = staff_tasks.c
        closed = sorted(
            int(task_id)
            for task_id in conn.scalars(
                update(staff_tasks)
                .where(
                    t.customer_id == visit.customer_id,
                    t.kind == "in_person",
                    t.moment == request.moment.value,
                    t.status == "open",
                )
                .values(status="done", outcome="greeted", closed_at=now)
                .returning(t.id)
            )
        )
        if closed:
            # Closing a counter prompt is a change by a person, like recording a call's outcome.
            audit.record(
                conn,
                at=now,
                actor=actor.label,
                action="checkin.greeted",
                entity="customer",
                entity_id=int(visit.customer_id),
                before={"open_prompts": closed},
                after={
                    "moment": request.moment.value,
                    "checkin_id": checkin_id,
                    "status": "done",
                },
            )
        uow.commit()
    return {"checkin_id": checkin_id, "moment": request.moment.value, "greeted": True}
