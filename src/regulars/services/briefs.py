"""Briefs for staff tasks: why now, the household, what they own, what was said last time.

Built when asked (not when planned), so a note typed at the counter this morning is in the
brief the advisor opens this afternoon. Reads a handful of indexed queries for one customer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, or_, select

from regulars.domain.access import Actor
from regulars.domain.briefs import (
    AssetNote,
    Brief,
    HouseholdPerson,
    Interaction,
    PersonalNote,
    build_brief,
)
from regulars.domain.errors import NotFound
from regulars.domain.moments import Candidate, MomentKind
from regulars.domain.money import money_text
from regulars.services.access import access_customer, unreachable_customers
from regulars.store.moment_queries import (
    is_unhappy,
    location_zones,
    open_complaints,
    unplaced_home,
)
from regulars.store.planner_tables import plan_decisions, staff_tasks
from regulars.store.tables import assets, customers, events, household_members, preferences
from regulars.store.uow import UnitOfWork

INTERACTION_TYPES = ("call", "visit", "purchase", "survey_answer", "ticket", "message", "goodwill")


def brief_for_task(uow: UnitOfWork, actor: Actor, task_id: int, *, now: datetime) -> dict[str, Any]:
    """The brief of one staff task, as JSON-ready data (404 outside the actor's locations)."""
    with uow:
        conn = uow.conn
        task = conn.execute(select(staff_tasks).where(staff_tasks.c.id == task_id)).first()
        if task is None:
            raise NotFound("no such task", field="task_id")
        try:
            access_customer(conn, actor, int(task.customer_id))
        except NotFound:
            raise NotFound("no such task", field="task_id") from None
        brief = task_brief(conn, task._mapping, now=now, actor=actor)
    return {
        "task_id": task_id,
        "kind": task.kind,
        "status": task.status,
        "due_on": task.due_on.isoformat(),
        "summary": task.summary,
        **brief.model_dump(mode="json"),
    }


def task_brief(conn: Connection, task: Any, *, now: datetime, actor: Actor | None = None) -> Brief:
    """The brief for a task row (a mapping with customer_id, decision_id, moment, summary),
    as ``actor`` may see it (None: the whole business)."""
    moments = _moments(conn, task)
    return customer_brief(conn, int(task["customer_id"]), moments, now=now, actor=actor)


def _moments(conn: Connection, task: Any) -> list[Candidate]:
    d = plan_decisions.c
    out: list[Candidate] = []
    if task["decision_id"] is not None:
        rows = conn.execute(
            select(d.customer_id, d.moment, d.occasion, d.detail, d.id)
            .where(or_(d.id == task["decision_id"], d.merged_into_id == task["decision_id"]))
            .order_by(d.priority.desc(), d.id)
        )
        for cid, moment, occasion, detail, _ in rows:
            if moment in MomentKind.__members__:
                out.append(Candidate(int(cid), MomentKind(moment), str(occasion), str(detail)))
    if not out and task["moment"] in MomentKind.__members__:
        out.append(
            Candidate(
                int(task["customer_id"]), MomentKind(task["moment"]), "", str(task["summary"])
            )
        )
    return out


def customer_brief(
    conn: Connection,
    customer_id: int,
    moments: list[Candidate],
    *,
    now: datetime,
    actor: Actor | None = None,
) -> Brief:
    """Everything the brief says about one customer.

    The household is the customer's own story (who lives with them); what a housemate who
    is a customer of their own owns is that customer's data, shown only to someone who may
    see them (a Lisbon rep does not read a London customer's car).
    """
    c = customers.c
    row = conn.execute(
        select(
            c.first_name,
            c.last_name,
            c.city,
            c.household_id,
            c.lifetime_spend,
            c.home_location_id,
        ).where(c.id == customer_id)
    ).one()
    zone = _zone_of(conn, row.home_location_id)
    today = now.astimezone(ZoneInfo(zone)).date()
    name = f"{row.first_name} {row.last_name or ''}".strip()
    household, member_names, housemates = _household(conn, row.household_id, customer_id)
    hidden = unreachable_customers(conn, actor, housemates) if actor is not None else set()
    users = {cid: name for cid, name in housemates.items() if cid not in hidden}
    users[customer_id] = str(row.first_name)
    asset_notes = _assets(conn, users, member_names)
    prefs = {
        str(label): str(value)
        for label, value in conn.execute(
            select(preferences.c.label, preferences.c.value)
            .where(preferences.c.customer_id == customer_id)
            .order_by(preferences.c.label)
        )
        if not str(label).startswith("date:")
    }
    interactions, notes, unhappy_on, tier = _timeline(conn, customer_id, now, zone)
    complaints = open_complaints(conn, [customer_id]).get(customer_id, {})
    return build_brief(
        customer_id=customer_id,
        name=name,
        city=str(row.city or ""),
        tier=tier,
        lifetime_spend=int(row.lifetime_spend or 0),
        moments=moments,
        household=household,
        assets=asset_notes,
        preferences=prefs,
        interactions=interactions,
        open_complaints=[s or f"ticket {t}" for t, s in complaints.items()],
        notes=notes,
        unhappy_on=unhappy_on,
        today=today,
        zone=zone,
    )


def _zone_of(conn: Connection, home_location_id: int | None) -> str:
    """The customer's time zone as the planner keeps it: their home location's, and for a
    customer without one the first location's (whose plan covers them)."""
    zones = location_zones(conn)
    home = home_location_id if home_location_id in zones else unplaced_home(zones)
    return zones[home][0] if home is not None else "UTC"


def _household(
    conn: Connection, household_id: int | None, customer_id: int
) -> tuple[list[HouseholdPerson], dict[int, str], dict[int, str]]:
    """The other members, member id → name, and the housemates with a profile of their own
    (customer id → the name the household knows them by)."""
    if household_id is None:
        return [], {}, {}
    m = household_members.c
    people: list[HouseholdPerson] = []
    names: dict[int, str] = {}
    others: dict[int, str] = {}
    for mid, name, relation, birthday, cid in conn.execute(
        select(m.id, m.name, m.relation, m.birthday, m.customer_id)
        .where(m.household_id == household_id)
        .order_by(m.id)
    ):
        names[int(mid)] = str(name)
        if cid == customer_id:
            continue
        if cid is not None:
            others[int(cid)] = str(name)
        people.append(HouseholdPerson(name=str(name), relation=str(relation), birthday=birthday))
    return people, names, others


def _assets(
    conn: Connection, owners: dict[int, str], member_names: dict[int, str]
) -> list[AssetNote]:
    """What these customers own; used by the member it is tied to, else by its owner
    (``owners``: customer id → name)."""
    a = assets.c
    rows = list(
        conn.execute(
            select(a.kind, a.label, a.model_code, a.member_id, a.service_due_on, a.customer_id)
            .where(a.customer_id.in_(sorted(owners)))
            .order_by(a.id)
        )
    )
    recalls = open_recalls(conn, {str(r.model_code) for r in rows if r.model_code})
    return [
        AssetNote(
            label=str(label),
            kind=str(kind),
            used_by=member_names.get(int(member), owners[owner]) if member else owners[owner],
            model_code=str(model or ""),
            open_recalls=recalls.get(str(model), []),
            service_due_on=due,
        )
        for kind, label, model, member, due, owner in rows
    ]


def open_recalls(conn: Connection, models: set[str]) -> dict[str, list[str]]:
    """Asset model → titles of recalls still open for it (a later 'closed' notice ends one)."""
    if not models:
        return {}
    e = events.c
    state: dict[tuple[str, str], bool] = {}
    for (payload,) in conn.execute(
        select(e.payload).where(e.type == "recall").order_by(e.occurred_at, e.id)
    ):
        data = payload if isinstance(payload, dict) else {}
        model = str(data.get("asset_model", ""))
        if model in models:
            state[(model, str(data.get("title", "")))] = data.get("status", "open") == "open"
    out: dict[str, list[str]] = {}
    for (model, title), is_open in state.items():
        if is_open:
            out.setdefault(model, []).append(title)
    return out


def _timeline(
    conn: Connection, customer_id: int, now: datetime, zone: str
) -> tuple[list[Interaction], list[PersonalNote], Any, str | None]:
    """Interactions newest first, personal notes, the last unhappy day, the current tier."""
    e = events.c
    rows = conn.execute(
        select(e.type, e.occurred_at, e.payload, e.amount)
        .where(e.customer_id == customer_id, e.occurred_at <= now)
        .order_by(e.occurred_at.desc(), e.id.desc())
        .limit(400)
    )
    interactions: list[Interaction] = []
    notes: list[PersonalNote] = []
    unhappy_on = None
    tier: str | None = None
    for kind, at, payload, amount in rows:
        data = payload if isinstance(payload, dict) else {}
        if kind == "note" and len(notes) < 20:
            notes.append(PersonalNote(at=at, text=str(data.get("text", ""))))
        elif kind == "tier" and tier is None and data.get("change") in ("up", "down", "enrolled"):
            tier = str(data.get("tier_to") or "") or None
        first_call = kind == "call" and not any(i.kind == "call" for i in interactions)
        if kind in INTERACTION_TYPES and (len(interactions) < 20 or first_call):
            interactions.append(_interaction(str(kind), at, data, amount))
        if unhappy_on is None and is_unhappy(str(kind), data) and now - at <= timedelta(days=30):
            unhappy_on = at.astimezone(ZoneInfo(zone)).date()
    return interactions, notes, unhappy_on, tier


def _interaction(kind: str, at: datetime, data: dict[str, Any], amount: Any) -> Interaction:
    emotion: str | None = None
    if kind == "call":
        emotion = data.get("emotion")
        notes = str(data.get("notes") or "").strip()
        summary = f"{data.get('direction', 'outbound')} call, {data.get('outcome', 'reached')}"
        summary += f": {notes}" if notes else ""
    elif kind == "purchase":
        paid = int(amount or 0)
        items = sum(int(line.get("quantity", 1)) for line in data.get("lines", []))
        currency = str(data.get("currency") or "EUR")
        summary = f"bought {items} item(s) for {money_text(paid, currency)}"
    elif kind == "survey_answer":
        score = int(data.get("score", 0))
        emotion = "unhappy" if is_unhappy(kind, data) else ("happy" if score >= 9 else "neutral")
        summary = f"{str(data.get('kind', 'nps')).upper()} {score}: {data.get('comment') or ''}"
    elif kind == "ticket":
        summary = f"{data.get('category', 'ticket')} {data.get('status')}: {data.get('subject')}"
    elif kind == "message":
        summary = (
            f"{data.get('channel')} about {data.get('moment') or 'news'}: {data.get('status')}"
        )
    elif kind == "goodwill":
        summary = f"goodwill: {data.get('reason', '')}"
    else:
        summary = f"visit ({data.get('kind', 'check_in')})"
    return Interaction(at=at, kind=kind, summary=summary.strip(), emotion=emotion)
