"""The manager's dashboard: today's plan and how far each person got, and how the week felt.

A read-side report for managers and owners, scoped to their locations (and optionally to
one of them): tasks planned, done and still open per member of staff today; touches by
channel over the last seven days; the automations held back today and why (from the
planner's own reasons); the NPS and the callers' emotion ratings week by week; members
enrolled against members active (from the loyalty census). Counting happens in the
database; only the few survey answers and rated calls of eight weeks come back as rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select

from regulars.domain.access import Actor
from regulars.domain.errors import FieldProblem, InvalidInput
from regulars.services import loyalty, tasks
from regulars.services.access import customers_in_scope, require_location, require_manager
from regulars.store.outbox_tables import outbox
from regulars.store.planner_tables import staff_tasks
from regulars.store.tables import customers, events, locations, staff
from regulars.store.uow import UnitOfWork

WEEKS = 8
TOUCH_DAYS = 7
SUPPRESSED_SHOWN = 50

#: How each kind of touch is named on the dashboard.
TOUCH_LABELS = {
    "email": "E-mail",
    "sms": "SMS",
    "webhook": "App",
    "call": "Call",
    "card": "Card",
    "visit": "Visit",
    "greeted": "Greeted",
}


@dataclass(frozen=True)
class StaffProgress:
    """One person's share of today's plan (``staff_id`` None: counter prompts for anyone)."""

    staff_id: int | None
    name: str
    planned: int
    done: int

    @property
    def open(self) -> int:
        return self.planned - self.done

    @property
    def percent(self) -> int:
        return self.done * 100 // self.planned if self.planned else 0


@dataclass(frozen=True)
class Held:
    """An automated touch the planner or the send-time guards held back, and why."""

    customer_id: int
    name: str
    moment: str
    reason: str


@dataclass(frozen=True)
class Dashboard:
    day: date
    zone: str
    location: str | None
    progress: list[StaffProgress]
    touches: dict[str, int]
    weeks: list[date]
    nps: list[int | None]
    happy_percent: list[int | None]
    unhappy_percent: list[int | None]
    held: list[Held]
    held_total: int
    census: list[dict[str, Any]] = field(default_factory=list)


def manager_dashboard(
    uow: UnitOfWork, actor: Actor, *, now: datetime, location: str | None = None
) -> Dashboard:
    """Everything on the dashboard for the actor's locations (or one of them)."""
    require_manager(actor)
    with uow:
        conn = uow.conn
        places = {
            str(code): (int(lid), str(tz))
            for code, lid, tz in conn.execute(
                select(locations.c.code, locations.c.id, locations.c.timezone).order_by(
                    locations.c.name, locations.c.id
                )
            )
            if actor.locations is None or lid in actor.locations
        }
        if location is not None:
            if location not in places:
                raise InvalidInput([FieldProblem("location", f"unknown location {location!r}")])
            require_location(actor, places[location][0])
        shown = [places[location]] if location else list(places.values())
        days = _local_days(shown, now)
        first = next(iter(days))  # the first location's day: the heading and the weeks
        zone, day, local = first.zone, first.day, ZoneInfo(first.zone)
        scope = [customers_in_scope(actor)]
        if location is not None:
            scope.append(customers.c.home_location_id == places[location][0])
        progress = _progress(conn, scope, days, unplaced=location is None)
        touches = _touches(conn, scope, now - timedelta(days=TOUCH_DAYS), now)
        monday = day - timedelta(days=day.weekday())
        weeks = [monday - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
        since = datetime.combine(weeks[0], time(0), local)
        nps, happy, unhappy = _feelings(conn, scope, since, now, weeks, local)
    held_all = _held(uow, actor, days, location)
    census = loyalty.census(
        uow, actor, now=now, location_id=places[location][0] if location else None
    )
    return Dashboard(
        day=day,
        zone=zone,
        location=location,
        progress=progress,
        touches=touches,
        weeks=weeks,
        nps=nps,
        happy_percent=happy,
        unhappy_percent=unhappy,
        held=held_all[:SUPPRESSED_SHOWN],
        held_total=len(held_all),
        census=census,
    )


@dataclass(frozen=True)
class _LocalDay:
    """One location's today, as the instants it starts and ends (time zones differ)."""

    zone: str
    day: date
    start: datetime
    end: datetime


def _local_days(shown: list[tuple[int, str]], now: datetime) -> dict[_LocalDay, list[int]]:
    """Each location's own today, with the locations sharing it, the first location's first.

    An owner's cafés in Lisbon and Denver are on different days from 17:00 in Denver on: a
    single "today" would drop Denver's afternoon from its own day's progress.
    """
    days: dict[_LocalDay, list[int]] = {}
    for lid, zone in shown or [(0, "UTC")]:
        local = ZoneInfo(zone)
        day = now.astimezone(local).date()
        start = datetime.combine(day, time(0), local)
        key = next((d for d in days if d.day == day and d.start == start), None)
        days.setdefault(key or _LocalDay(zone, day, start, start + timedelta(days=1)), []).append(
            lid
        )
    return days


def _at_home(days: dict[_LocalDay, list[int]], day: _LocalDay, *, unplaced: bool) -> Any:
    """Customers whose home location is on ``day``; those without one count on the first."""
    home = customers.c.home_location_id
    if unplaced and day == next(iter(days)):
        return or_(home.in_(days[day]), home.is_(None))
    return home.in_(days[day])


def _held(
    uow: UnitOfWork, actor: Actor, days: dict[_LocalDay, list[int]], location: str | None
) -> list[Held]:
    """Today's held-back automations, each location's from its own day's plan.

    One plan read per calendar day (most important first, as the planner ranked them), each
    kept to the customers whose home location is on that day.
    """
    first = next(iter(days))
    on_day: dict[date, set[int | None]] = {}
    for local, ids in days.items():
        on_day.setdefault(local.day, set()).update(ids)
    on_day[first.day].add(None)  # customers without a home location count on the first
    rows = [
        (day, decision)
        for day in on_day
        for decision in tasks.plan_of_day(uow, actor, day, location=location)
        if _held_back(decision)
    ]
    if location is None and len(on_day) > 1:
        with uow:
            homes = dict(
                uow.conn.execute(
                    select(customers.c.id, customers.c.home_location_id).where(
                        customers.c.id.in_(sorted({int(d["customer_id"]) for _, d in rows}))
                    )
                ).all()
            )
        rows = [(day, d) for day, d in rows if homes.get(int(d["customer_id"])) in on_day[day]]
    return [
        Held(int(d["customer_id"]), str(d["customer"]), str(d["moment"]), str(d["reasons"]))
        for _, d in rows
    ]


#: How the planner's reasons begin when it refused an automated channel ("e-mail: no consent").
REFUSED_CHANNEL = ("e-mail:", "sms:", "webhook:")


def _held_back(decision: dict[str, Any]) -> bool:
    """An automation did not go out as planned: stopped, deferred, or swapped for a person."""
    if decision["status"] in ("suppressed", "deferred", "skipped"):
        return True
    if decision["delivery"] in ("suppressed", "deferred", "dead"):
        return True
    reasons = [part.strip() for part in str(decision["reasons"]).split(";")]
    return any(part.startswith(REFUSED_CHANNEL) for part in reasons)


def _progress(
    conn: Any, scope: list[Any], days: dict[_LocalDay, list[int]], *, unplaced: bool
) -> list[StaffProgress]:
    """Tasks on today's list per person (planned today, or due by today) — done vs planned.

    "Today" is the customer's home location's own day.
    """
    t = staff_tasks.c
    todays = or_(
        *(
            and_(
                _at_home(days, d, unplaced=unplaced),
                or_(t.due_on <= d.day, and_(t.created_at >= d.start, t.created_at < d.end)),
                or_(
                    t.status == "open",
                    and_(t.status == "done", t.closed_at >= d.start, t.closed_at < d.end),
                ),
            )
            for d in days
        )
    )
    done = func.sum(case((t.status == "done", 1), else_=0))
    rows = conn.execute(
        select(t.assignee_staff_id, staff.c.name, func.count(), done)
        .select_from(
            staff_tasks.join(customers, customers.c.id == t.customer_id).outerjoin(
                staff, staff.c.id == t.assignee_staff_id
            )
        )
        .where(todays, *scope)
        .group_by(t.assignee_staff_id, staff.c.name)
        .order_by(staff.c.name)
    ).all()
    return [
        StaffProgress(
            int(sid) if sid is not None else None,
            str(name) if name else "Counter (anyone)",
            int(planned),
            int(finished or 0),
        )
        for sid, name, planned, finished in rows
    ]


def _touches(conn: Any, scope: list[Any], since: datetime, until: datetime) -> dict[str, int]:
    """Messages sent, calls made, cards written, visits and in-person greetings."""
    counts = dict.fromkeys(TOUCH_LABELS.values(), 0)
    o = outbox.c
    for channel, count in conn.execute(
        select(o.channel, func.count())
        .select_from(outbox.join(customers, customers.c.id == o.customer_id))
        .where(o.status == "sent", o.sent_at >= since, o.sent_at <= until, *scope)
        .group_by(o.channel)
    ):
        counts[TOUCH_LABELS.get(str(channel), str(channel))] += int(count)
    e = events.c
    for kind, count in conn.execute(
        select(e.type, func.count())
        .select_from(events.join(customers, customers.c.id == e.customer_id))
        .where(
            e.type.in_(["call", "visit", "greeted"]),
            e.occurred_at >= since,
            e.occurred_at <= until,
            *scope,
        )
        .group_by(e.type)
    ):
        counts[TOUCH_LABELS[str(kind)]] += int(count)
    t = staff_tasks.c
    cards = conn.scalar(
        select(func.count())
        .select_from(staff_tasks.join(customers, customers.c.id == t.customer_id))
        .where(t.kind == "card", t.status == "done", t.closed_at >= since, *scope)
    )
    counts[TOUCH_LABELS["card"]] += int(cards or 0)
    return counts


def _feelings(
    conn: Any,
    scope: list[Any],
    since: datetime,
    until: datetime,
    weeks: list[date],
    local: ZoneInfo,
) -> tuple[list[int | None], list[int | None], list[int | None]]:
    """Weekly NPS (promoters − detractors, in points) and shares of happy and unhappy calls."""
    e = events.c
    scores: dict[date, list[int]] = {w: [] for w in weeks}
    faces: dict[date, list[str]] = {w: [] for w in weeks}
    rows = conn.execute(
        select(e.type, e.occurred_at, e.payload)
        .select_from(events.join(customers, customers.c.id == e.customer_id))
        .where(
            e.type.in_(["survey_answer", "call"]),
            e.occurred_at >= since,
            e.occurred_at <= until,
            *scope,
        )
    )
    for kind, at, payload in rows:
        local_day = at.astimezone(local).date()
        week = local_day - timedelta(days=local_day.weekday())
        if week not in scores or not isinstance(payload, dict):
            continue
        if kind == "survey_answer" and payload.get("kind", "nps") == "nps":
            scores[week].append(int(payload.get("score", 0)))
        elif kind == "call" and payload.get("emotion"):
            faces[week].append(str(payload["emotion"]))
    nps: list[int | None] = []
    happy: list[int | None] = []
    unhappy: list[int | None] = []
    for week in weeks:
        answers = scores[week]
        if answers:
            promoters = sum(1 for s in answers if s >= 9)
            detractors = sum(1 for s in answers if s <= 6)
            nps.append(round((promoters - detractors) * 100 / len(answers)))
        else:
            nps.append(None)
        rated = faces[week]
        happy.append(round(rated.count("happy") * 100 / len(rated)) if rated else None)
        unhappy.append(round(rated.count("unhappy") * 100 / len(rated)) if rated else None)
    return nps, happy, unhappy
