"""Set-based queries for the planner: today's moment candidates and what we know about them.

Finding who has a moment today among a million customers is a handful of indexed queries
(birthday key, event type and date, asset model, enrolment date) plus one filtered pass for
lapsing regulars; the Python that follows only ever sees the candidates. Facts about the
candidates (profile, consents, today's visits, complaints, recent unhappiness, tier,
decisions already taken) are then read in chunks of ``IN`` queries.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    exists,
    extract,
    func,
    literal,
    or_,
    select,
)

from regulars.domain.moments import (
    MILESTONES,
    Candidate,
    MomentKind,
    birthday_keys,
    enrolment_days,
)
from regulars.domain.money import amount_text
from regulars.domain.playbooks import Thresholds
from regulars.store.lookups import chunked
from regulars.store.planner_tables import plan_decisions, staff_tasks
from regulars.store.tables import (
    assets,
    consents,
    customers,
    events,
    household_members,
    locations,
    preferences,
)

LIVE = ("active", "do_not_contact", "deceased")
TIER_MOMENTS = {
    "up": MomentKind.tier_up,
    "down": MomentKind.tier_down,
    "grace": MomentKind.tier_grace,
    "close_to_next": MomentKind.close_to_next_tier,
}


def _payload(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    loaded = json.loads(value) if value else {}
    return loaded if isinstance(loaded, dict) else {}


@dataclass(frozen=True)
class Scope:
    """Which customers a plan covers: some home locations, and maybe those with none.

    ``zone`` is the time zone of those locations: the plan day and "yesterday" are their
    local calendar days (a Tokyo café's 30 April runs from 15:00 UTC on 29 April).
    """

    location_ids: tuple[int, ...] | None = None
    include_unplaced: bool = True
    zone: str = "UTC"

    def start_of(self, day: date) -> datetime:
        """Local midnight of ``day`` in this scope's zone, as a UTC instant.

        Consecutive days share their boundary, so a day of 23 or 25 hours (a clock change)
        leaves no instant out and counts none twice.
        """
        return datetime.combine(day, time(0), tzinfo=ZoneInfo(self.zone)).astimezone(UTC)

    def clause(self) -> ColumnElement[bool]:
        """A filter, not an access path: ``+ 0`` keeps SQLite from walking the location index
        (a third of the customers) instead of the selective one (birthday key, dates)."""
        if self.location_ids is None:
            return literal(True)
        home = customers.c.home_location_id
        parts: list[ColumnElement[bool]] = [(home + 0).in_(self.location_ids)]
        if self.include_unplaced:
            parts.append(home.is_(None))
        return or_(*parts)


def find_candidates(
    conn: Connection,
    *,
    day: date,
    scope: Scope,
    large_purchase: int,
    leap_rule: str = "feb28",
) -> list[Candidate]:
    """The moments that need no playbook setting to be found, for every customer in scope.

    Events are those of the day before, local midnight to local midnight in the scope's
    zone (the plan of each local day reads the previous local day, so consecutive plans
    neither skip nor repeat an instant). A large purchase is any purchase of at least
    ``large_purchase`` (the smallest threshold of all playbooks; the planner applies each
    customer's own). Complaints and service due depend on a playbook's thresholds
    (``find_thresholded``); lapsing regulars are found in one pass (``find_lapsing``).
    """
    found: list[Candidate] = []
    found += _birthdays(conn, day, scope, leap_rule)
    found += _household_birthdays(conn, day, scope, leap_rule)
    found += _anniversaries(conn, day, scope, leap_rule)
    found += _purchases(conn, day, scope, large_purchase)
    found += _loyalty_events(conn, day, scope)
    found += _unhappy(conn, day, scope)
    found += _recalls(conn, day, scope)
    found += _custom_dates(conn, day, scope, leap_rule)
    return found


def find_thresholded(
    conn: Connection, *, day: date, scope: Scope, thresholds: Thresholds
) -> list[Candidate]:
    """Complaints open too long and assets due for service, by one playbook's thresholds."""
    return _complaints(conn, day, scope, thresholds) + _service_due(conn, day, scope, thresholds)


def _birthdays(conn: Connection, day: date, scope: Scope, rule: str) -> list[Candidate]:
    c = customers.c
    rows = conn.execute(
        select(c.id).where(
            c.birthday_key.in_(birthday_keys(day, rule)), c.status.in_(LIVE), scope.clause()
        )
    )
    return [Candidate(int(cid), MomentKind.birthday, str(day.year)) for (cid,) in rows]


def _household_birthdays(conn: Connection, day: date, scope: Scope, rule: str) -> list[Candidate]:
    """A household member's birthday, for one customer of the household.

    When several customers share the household (both partners have a profile), the son's
    birthday is still one occasion: it goes to one of them (``_household_contact``), the
    same one whichever location's plan finds it.
    """
    c, m = customers.c, household_members.c
    rows = list(
        conn.execute(
            select(c.id, c.household_id, m.id, m.name, m.relation, m.customer_id)
            .select_from(household_members.join(customers, c.household_id == m.household_id))
            .where(
                m.birthday_key.in_(birthday_keys(day, rule)),
                or_(m.customer_id.is_(None), m.customer_id != c.id),
                member_alive(),
                c.status.in_(LIVE),
                scope.clause(),
            )
        )
    )
    contact = _household_contact(conn, {int(row[1]) for row in rows})
    return [
        Candidate(
            int(cid),
            MomentKind.household_birthday,
            f"{day.year}:{mid}",
            str(name),
            {"member_name": str(name), "relation": str(relation)},
        )
        for cid, hid, mid, name, relation, member in rows
        if cid == contact(int(hid), member)
    ]


def member_alive() -> ColumnElement[bool]:
    """A household member whose own profile (most have none) is not marked deceased: nobody
    is asked to "ask after" a husband who has died."""
    linked = customers.alias("linked")
    return ~exists().where(
        linked.c.id == household_members.c.customer_id, linked.c.status == "deceased"
    )


def _household_contact(
    conn: Connection, household_ids: Iterable[int]
) -> Callable[[int, int | None], int | None]:
    """Who in each household hears about a member's occasion: an active customer before one
    who asked not to be contacted or died, then the earliest profile; never the member."""
    c = customers.c
    people: dict[int, list[tuple[bool, int]]] = defaultdict(list)
    for part in chunked(sorted(household_ids), 900):
        for cid, hid, status in conn.execute(
            select(c.id, c.household_id, c.status).where(
                c.household_id.in_(part), c.status.in_(LIVE)
            )
        ):
            people[int(hid)].append((status != "active", int(cid)))

    def contact(household_id: int, member: int | None) -> int | None:
        others = [person for person in people[household_id] if person[1] != member]
        return min(others)[1] if others else None

    return contact


def _anniversaries(conn: Connection, day: date, scope: Scope, rule: str) -> list[Candidate]:
    """Enrolled on this local day 1 to 40 years ago: one small index range per year (two on
    the day that stands in for 29 February in a common year, as for birthdays).

    Separate ranges rather than one OR: faced with forty ORs, SQLite prefers scanning a
    covering index over the whole table to forty index lookups.
    """
    c = customers.c
    out: list[Candidate] = []
    for years in range(1, 41):
        label = f"{years} year" if years == 1 else f"{years} years"
        for then in enrolment_days(day, years, rule):
            rows = conn.execute(
                select(c.id).where(
                    c.created_at >= scope.start_of(then),
                    c.created_at < scope.start_of(then + timedelta(days=1)),
                    c.status.in_(LIVE),
                    scope.clause(),
                )
            )
            out.extend(
                Candidate(
                    int(cid), MomentKind.anniversary, str(day.year), label, {"occasion": label}
                )
                for (cid,) in rows
            )
    return out


def _window(day: date, scope: Scope) -> tuple[datetime, datetime]:
    """What happened 'since yesterday': the local day before the plan day, in the scope's zone."""
    return scope.start_of(day - timedelta(days=1)), scope.start_of(day)


def _events_in(
    conn: Connection, kinds: Sequence[str], start: datetime, end: datetime, scope: Scope
) -> list[Any]:
    e, c = events.c, customers.c
    return list(
        conn.execute(
            select(e.id, e.customer_id, e.type, e.occurred_at, e.payload, c.purchase_count)
            .select_from(events.join(customers, c.id == e.customer_id))
            .where(
                e.type.in_(kinds),
                e.occurred_at >= start,
                e.occurred_at < end,
                c.status.in_(LIVE),
                scope.clause(),
            )
        )
    )


def _purchases(conn: Connection, day: date, scope: Scope, large: int) -> list[Candidate]:
    start, end = _window(day, scope)
    e, c = events.c, customers.c
    rows = conn.execute(
        select(e.id, e.customer_id, e.amount, c.purchase_count)
        .select_from(events.join(customers, c.id == e.customer_id))
        .where(
            e.type == "purchase",
            e.occurred_at >= start,
            e.occurred_at < end,
            c.status.in_(LIVE),
            scope.clause(),
        )
    )
    out: list[Candidate] = []
    for eid, cid, amount, count in rows:
        total = int(amount or 0)
        if count == 1:
            out.append(Candidate(int(cid), MomentKind.first_purchase, "1"))
        elif count in MILESTONES:
            out.append(
                Candidate(
                    int(cid), MomentKind.purchase_milestone, str(count), f"purchase no. {count}"
                )
            )
        if total >= large:
            out.append(
                Candidate(
                    int(cid),
                    MomentKind.large_purchase,
                    str(eid),
                    amount_text(total),
                    {"amount": total},
                )
            )
    return out


def _loyalty_events(conn: Connection, day: date, scope: Scope) -> list[Candidate]:
    start, end = _window(day, scope)
    out: list[Candidate] = []
    rows = _events_in(conn, ["tier", "points_expiring"], start, end, scope)
    for eid, cid, kind, _, payload, _ in rows:
        data = _payload(payload)
        if kind == "tier":
            moment = TIER_MOMENTS.get(str(data.get("change")))
            if moment is None:
                continue
            tier = str(data.get("tier_to") or data.get("tier_from") or "")
            out.append(Candidate(int(cid), moment, str(eid), tier, {"tier": tier}))
        else:
            points, expires = int(data.get("points", 0)), str(data.get("expires_on", ""))
            out.append(
                Candidate(
                    int(cid),
                    MomentKind.points_expiring,
                    expires,
                    f"{points} points expire on {expires}",
                    {"points": points, "expires_on": expires},
                )
            )
    return out


def _unhappy(conn: Connection, day: date, scope: Scope) -> list[Candidate]:
    start, end = _window(day, scope)
    out: list[Candidate] = []
    for eid, cid, kind, _, payload, _ in _events_in(
        conn, ["survey_answer", "call"], start, end, scope
    ):
        data = _payload(payload)
        if kind == "survey_answer" and is_detractor(data):
            out.append(
                Candidate(
                    int(cid),
                    MomentKind.detractor,
                    str(eid),
                    f"{data.get('kind', 'nps')} {data.get('score')}",
                )
            )
        elif kind == "call" and data.get("emotion") == "unhappy":
            out.append(
                Candidate(
                    int(cid), MomentKind.unhappy_call, str(eid), str(data.get("notes", ""))[:200]
                )
            )
    return out


def is_unhappy(kind: str, payload: dict[str, Any]) -> bool:
    """A detractor survey answer or a call that ended unhappy."""
    if kind == "survey_answer":
        return is_detractor(payload)
    return kind == "call" and payload.get("emotion") == "unhappy"


def is_detractor(payload: dict[str, Any]) -> bool:
    score = int(payload.get("score", 10))
    return score <= 2 if payload.get("kind") == "csat" else score <= 6


def _complaints(conn: Connection, day: date, scope: Scope, limits: Thresholds) -> list[Candidate]:
    """Complaints that crossed 'open for X days' in the last week and are still open."""
    end = day - timedelta(days=limits.complaint_open_days)
    opened = _events_in(
        conn, ["ticket"], scope.start_of(end - timedelta(days=7)), scope.start_of(end), scope
    )
    tickets = {
        (int(cid), str(_payload(p).get("ticket_id"))): _payload(p)
        for _, cid, _, _, p, _ in opened
        if _payload(p).get("status") == "opened" and _payload(p).get("category") == "complaint"
    }
    if not tickets:
        return []
    still_open = open_complaints(conn, {cid for cid, _ in tickets})
    return [
        Candidate(cid, MomentKind.complaint_open, ticket, str(data.get("subject", "")))
        for (cid, ticket), data in tickets.items()
        if ticket in still_open.get(cid, {})
    ]


def _recalls(conn: Connection, day: date, scope: Scope) -> list[Candidate]:
    start, end = _window(day, scope)
    e, a, c = events.c, assets.c, customers.c
    recalls = list(
        conn.execute(
            select(e.id, e.payload).where(
                e.type == "recall", e.occurred_at >= start, e.occurred_at < end
            )
        )
    )
    out: list[Candidate] = []
    for rid, payload in recalls:
        data = _payload(payload)
        if data.get("status", "open") != "open":
            continue
        rows = conn.execute(
            select(a.customer_id, a.label)
            .select_from(assets.join(customers, c.id == a.customer_id))
            .where(a.model_code == str(data.get("asset_model")), c.status.in_(LIVE), scope.clause())
        )
        title = str(data.get("title", ""))
        for cid, label in rows:
            out.append(
                Candidate(
                    int(cid),
                    MomentKind.recall,
                    str(rid),
                    f"{title} — {label}",
                    {"asset": str(label), "recall_title": title},
                )
            )
    return out


def _service_due(conn: Connection, day: date, scope: Scope, limits: Thresholds) -> list[Candidate]:
    """Assets due ``lead`` days from now (and the three days before, in case a plan was missed)."""
    a, c = assets.c, customers.c
    due = day + timedelta(days=limits.service_due_lead_days)
    rows = conn.execute(
        select(a.customer_id, a.id, a.label, a.service_due_on)
        .select_from(assets.join(customers, c.id == a.customer_id))
        .where(
            a.service_due_on >= due - timedelta(days=3),
            a.service_due_on <= due,
            c.status.in_(LIVE),
            scope.clause(),
        )
    )
    return [
        Candidate(
            int(cid),
            MomentKind.service_due,
            f"{when.isoformat()}:{aid}",
            f"{label} on {when.isoformat()}",
            {"asset": str(label)},
        )
        for cid, aid, label, when in rows
    ]


def _days(column: Any, dialect: str) -> Any:
    """A timestamp as fractional days since an epoch, the same way on SQLite and PostgreSQL."""
    if dialect == "sqlite":
        return func.julianday(column)
    return extract("epoch", column) / 86_400.0


def find_lapsing(
    conn: Connection, *, day: date, plans: Sequence[tuple[Thresholds, Scope]]
) -> list[tuple[Candidate, int]]:
    """Regulars whose silence crossed k × their own usual gap in the last seven days.

    The usual gap is (last purchase − enrolment) / (purchases − 1); the threshold has a
    floor so a daily regular is not 'lapsing' after a weekend. This is the one moment no
    index narrows down, so it is one pass over a narrow covering index
    (``ix_customers_lapsing``), written so that each row is tested against its own
    playbook's k and floor with as little arithmetic as possible: silence ≥ floor and
    "crossed the floor this week" are plain timestamp comparisons; only k × gap needs
    date arithmetic. Silence is counted up to local midnight in each plan's zone. Returns
    each candidate with the index of its plan.
    """
    c = customers.c
    home = c.home_location_id
    dialect = conn.dialect.name
    gap = (_days(c.last_purchase_at, dialect) - _days(c.created_at, dialect)) / (
        c.purchase_count - 1
    )
    per_plan: list[ColumnElement[bool]] = []
    plan_of_location: dict[int | None, int] = {}
    for index, (limits, scope) in enumerate(plans):
        mine = [lid for lid in scope.location_ids or () if lid not in plan_of_location]
        for lid in mine:
            plan_of_location[lid] = index
        unplaced = scope.include_unplaced and None not in plan_of_location
        if unplaced:
            plan_of_location[None] = index
        where: list[ColumnElement[bool]] = []
        if mine:
            where.append((home + 0).in_(mine))
        if unplaced:
            where.append(home.is_(None))
        if not where:
            continue
        midnight = scope.start_of(day)
        silence = _days(literal(midnight, c.created_at.type), dialect) - _days(
            c.last_visit_at, dialect
        )
        floor = timedelta(days=limits.lapsing_floor_days)
        k_gap = gap * limits.lapsing_factor
        per_plan.append(
            and_(
                or_(*where),
                c.last_visit_at < midnight - floor,
                silence >= k_gap,
                or_(silence < k_gap + 7, c.last_visit_at >= midnight - floor - timedelta(days=7)),
            )
        )
    if not per_plan:
        return []
    rows = conn.execute(
        select(c.id, c.last_visit_at, c.home_location_id).where(
            c.purchase_count >= 3,
            c.last_purchase_at > c.created_at,
            c.status == "active",
            or_(*per_plan),
        )
    )
    return [
        (_lapsing(int(cid), seen, plans[plan_of_location[lid]][1].zone), plan_of_location[lid])
        for cid, seen, lid in rows
        if lid in plan_of_location
    ]


def _lapsing(customer_id: int, seen: datetime, zone: str) -> Candidate:
    """The occasion is the last visit's UTC date (the key decisions were recorded under);
    the words say the day the regular was last in on their location's calendar."""
    local = seen.astimezone(ZoneInfo(zone)).date()
    return Candidate(
        customer_id, MomentKind.lapsing, seen.date().isoformat(), f"last seen {local.isoformat()}"
    )


def _custom_dates(conn: Connection, day: date, scope: Scope, rule: str) -> list[Candidate]:
    """Dates a customer told us about, kept as preferences labelled 'date: …' valued 'MM-DD'.

    A '02-29' is kept in common years on the day the business chose for 29 February
    birthdays (``rule``), like a birthday. Read from preferences first (few match a given
    day), then checked against the scope.
    """
    p, c = preferences.c, customers.c
    values = [f"{key // 100:02d}-{key % 100:02d}" for key in birthday_keys(day, rule)]
    found = [
        (int(cid), str(label))
        for cid, label in conn.execute(
            select(p.customer_id, p.label).where(p.label.like("date:%"), p.value.in_(values))
        )
    ]
    if not found:
        return []
    live: set[int] = set()
    for part in chunked(sorted({cid for cid, _ in found}), 900):
        live.update(
            int(cid)
            for (cid,) in conn.execute(
                select(c.id).where(c.id.in_(part), c.status.in_(LIVE), scope.clause())
            )
        )
    return [
        Candidate(
            cid,
            MomentKind.custom_date,
            f"{day.year}:{label}",
            label.removeprefix("date:").strip(),
            {"occasion": label.removeprefix("date:").strip()},
        )
        for cid, label in found
        if cid in live
    ]


# --------------------------------------------------------------------------- facts


@dataclass
class Facts:
    """What the guards and capacity need to know about one customer, read in bulk."""

    customer_id: int
    first_name: str = ""
    last_name: str = ""
    city: str = ""
    status: str = "active"
    has_email: bool = False
    has_phone: bool = False
    quiet_start: time | None = None
    quiet_end: time | None = None
    location_id: int | None = None
    zone: str = "UTC"
    owner_id: int | None = None
    lifetime_spend: int = 0
    consents: dict[str, bool] = field(default_factory=dict)
    visits: list[datetime] = field(default_factory=list)
    greeted: list[tuple[datetime, str]] = field(default_factory=list)
    open_complaint: bool = False
    unhappy_at: datetime | None = None
    tier: str | None = None


def location_zones(conn: Connection) -> dict[int, tuple[str, str, str]]:
    """Location id → (time zone, kind, code); a business has a handful."""
    rows = conn.execute(
        select(locations.c.id, locations.c.timezone, locations.c.kind, locations.c.code)
    )
    return {int(lid): (str(tz), str(kind), str(code)) for lid, tz, kind, code in rows}


def unplaced_home(zones: Mapping[int, object]) -> int | None:
    """The location whose daily plan also covers customers with no home location, on its
    own calendar: the first one (the lowest id), so the scheduler plans them once a day.
    Their quiet hours are kept on the same clock."""
    return min(zones, default=None)


def gather_facts(
    conn: Connection, customer_ids: Iterable[int], *, now: datetime, unhappy_days: int
) -> dict[int, Facts]:
    """Profile, consents, recent visits, complaints, unhappiness and tier for these customers."""
    ids = sorted(set(customer_ids))
    zones = location_zones(conn)
    home = unplaced_home(zones)
    unplaced_zone = zones[home][0] if home is not None else "UTC"
    facts: dict[int, Facts] = {}
    c = customers.c
    for part in chunked(ids, 2000):
        rows = conn.execute(
            select(
                c.id,
                c.first_name,
                c.last_name,
                c.city,
                c.status,
                c.email.is_not(None),
                c.phone.is_not(None),
                c.quiet_start,
                c.quiet_end,
                c.home_location_id,
                c.owner_staff_id,
                c.lifetime_spend,
            ).where(c.id.in_(part))
        )
        for cid, first, last, city, status, email, phone, q_start, q_end, lid, owner, spent in rows:
            facts[cid] = Facts(
                customer_id=cid,
                first_name=first,
                last_name=last or "",
                city=city or "",
                status=status,
                has_email=bool(email),
                has_phone=bool(phone),
                quiet_start=q_start,
                quiet_end=q_end,
                location_id=lid,
                zone=zones[lid][0] if lid in zones else unplaced_zone,
                owner_id=owner,
                lifetime_spend=spent or 0,
            )
        for cid, channel, granted in conn.execute(
            select(consents.c.customer_id, consents.c.channel, consents.c.granted).where(
                consents.c.customer_id.in_(part)
            )
        ):
            facts[int(cid)].consents[str(channel)] = bool(granted)
    _recent_events(conn, facts, now=now, unhappy_days=unhappy_days)
    complaints = open_complaints(conn, facts.keys())
    for cid, tickets in complaints.items():
        if tickets and cid in facts:
            facts[cid].open_complaint = True
    return facts


def _recent_events(
    conn: Connection, facts: dict[int, Facts], *, now: datetime, unhappy_days: int
) -> None:
    e = events.c
    since = now - timedelta(days=max(unhappy_days, 2))
    day_ago = now - timedelta(days=2)
    for part in chunked(sorted(facts), 900):
        rows = conn.execute(
            select(e.customer_id, e.type, e.occurred_at, e.payload)
            .where(
                e.customer_id.in_(part),
                e.type.in_(["visit", "greeted", "survey_answer", "call", "tier", "purchase"]),
                e.occurred_at >= since,
            )
            .order_by(e.occurred_at)
        )
        for cid, kind, at, payload in rows:
            fact = facts[int(cid)]
            if at > now:
                continue
            if kind in ("visit", "purchase") and at >= day_ago:
                if kind == "visit" or _payload(payload).get("channel", "in_store") == "in_store":
                    fact.visits.append(at)
            elif kind == "greeted" and at >= day_ago:
                fact.greeted.append((at, str(_payload(payload).get("moment", "birthday"))))
            elif is_unhappy(str(kind), _payload(payload)):
                fact.unhappy_at = at
    _tiers(conn, facts)


def _tiers(conn: Connection, facts: dict[int, Facts]) -> None:
    """The latest tier the loyalty engine announced for each customer."""
    e = events.c
    for part in chunked(sorted(facts), 900):
        rows = conn.execute(
            select(e.customer_id, e.payload)
            .where(e.customer_id.in_(part), e.type == "tier")
            .order_by(e.occurred_at, e.id)
        )
        for cid, payload in rows:
            data = _payload(payload)
            if data.get("change") in ("up", "down", "enrolled", "grace"):
                facts[int(cid)].tier = data.get("tier_to") or facts[int(cid)].tier


#: Built once: the counter asks this for every customer it checks in.
_TICKETS = (
    select(events.c.customer_id, events.c.payload)
    .where(events.c.customer_id.in_(bindparam("ids", expanding=True)), events.c.type == "ticket")
    .order_by(events.c.occurred_at, events.c.id)
)


def open_complaints(conn: Connection, customer_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Customer → {ticket id: subject} of complaints opened and not (yet) closed."""
    out: dict[int, dict[str, str]] = defaultdict(dict)
    for part in chunked(sorted(set(customer_ids)), 900):
        rows = conn.execute(_TICKETS, {"ids": part})
        for cid, payload in rows:
            data = _payload(payload)
            ticket = str(data.get("ticket_id"))
            if data.get("status") == "opened" and data.get("category") == "complaint":
                out[int(cid)][ticket] = str(data.get("subject", ""))
            elif data.get("status") == "closed":
                out[int(cid)].pop(ticket, None)
    return dict(out)


@dataclass
class Decided:
    """Decisions already on record for the candidates: keys, today's human touches, last week."""

    keys: set[tuple[int, str, str]] = field(default_factory=set)
    human_today: set[int] = field(default_factory=set)
    automated_week: dict[int, list[tuple[str, str]]] = field(default_factory=dict)


def decided(conn: Connection, customer_ids: Iterable[int], day: date) -> Decided:
    """Keys on record, who already has a call coming today, and last week's messages.

    A call already on someone's list (a retry of yesterday's unanswered call, a follow-up
    promised for today, a planned call whose days are not over) is a human touch planned
    today too: a second call the same day would feel like a campaign. One overdue and left
    open does not count, or a forgotten task would hold back every call to the customer.
    """
    d, t = plan_decisions.c, staff_tasks.c
    out = Decided()
    for part in chunked(sorted(set(customer_ids)), 900):
        out.human_today.update(
            int(cid)
            for (cid,) in conn.execute(
                select(t.customer_id).where(
                    t.customer_id.in_(part),
                    t.kind == "call",
                    t.status == "open",
                    or_(
                        t.due_on == day,
                        and_(t.decision_id.is_not(None), t.attempt == 1, t.due_on >= day),
                    ),
                )
            )
        )
        rows = conn.execute(
            select(
                d.customer_id, d.moment, d.occasion, d.plan_date, d.status, d.touch, d.purpose
            ).where(d.customer_id.in_(part), d.plan_date >= day - timedelta(days=400))
        )
        for cid, moment, occasion, planned, status, touch, purpose in rows:
            out.keys.add((int(cid), str(moment), str(occasion)))
            active = status in ("planned", "deferred")
            if active and touch == "call" and planned == day:
                out.human_today.add(int(cid))
            if active and touch in ("email", "sms") and planned > day - timedelta(days=7):
                out.automated_week.setdefault(int(cid), []).append((str(touch), str(purpose)))
    return out
