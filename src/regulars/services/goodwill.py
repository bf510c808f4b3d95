"""Goodwill: the person in front of the customer can make it right, now, within their limit.

Each program sets how many points each role may grant. The limit counts what this person
granted this customer in the program on the same local day (at the customer's home
location, UTC without one), so it cannot be split into smaller grants. Within the limit the
points are booked instantly, with the reason, an audit entry and a ``goodwill`` event on the
timeline. Above it the grant becomes a request that a manager (whose own limit covers it)
approves or declines. The command line and the scheduler act as the business and have no
limit. Goodwill for a customer merged into another, or erased, is refused (409): the points
would sit where nobody sees them, the reason would bring back what erasure removed.
Goodwill for someone who has not joined an opt-in program is refused on ``program``: it
never enrols them.

A grant may carry a one-time ``key`` (the console renders one into its form): the same key
twice books once and answers the first result, through the same idempotency keys the API's
``Idempotency-Key`` uses (``services.idempotency``).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select, update

from regulars.domain.access import Actor
from regulars.domain.customers import Role
from regulars.domain.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from regulars.domain.ledger import lot_dates
from regulars.domain.program import Program
from regulars.services import idempotency
from regulars.services.access import access_customer, access_live_customer, require
from regulars.services.loyalty import OWN_SOURCE
from regulars.services.loyalty_book import (
    Book,
    LoadedProgram,
    current_programs,
    load_members,
    new_member,
)
from regulars.store import audit
from regulars.store.ids import insert_one
from regulars.store.loyalty_tables import loyalty_goodwill
from regulars.store.tables import customers, locations
from regulars.store.uow import UnitOfWork

MAX_POINTS = 10_000_000


def authority(program: Program, actor: Actor) -> int | None:
    """How many points this actor may grant one customer a day; None means no limit."""
    if actor.kind in ("cli", "system"):
        return None
    if actor.role is None:
        return 0
    return program.goodwill.limits.get(Role(actor.role), 0)


def grant_goodwill(
    uow: UnitOfWork,
    actor: Actor,
    customer_id: int,
    points: int,
    reason: str,
    now: datetime,
    *,
    program: str | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """Grant points within the actor's authority, or file a request for a manager.

    Returns ``{"status": "granted" | "requested", "goodwill_id": …, "points": …}``. The same
    ``key`` twice grants once; the repeat gets the first answer.
    """
    require(actor, "loyalty:write")
    reason = reason.strip()
    problems = []
    if not 0 < points <= MAX_POINTS:
        problems.append(FieldProblem("points", f"give 1 to {MAX_POINTS} points"))
    if not reason or len(reason) > 500:
        problems.append(FieldProblem("reason", "say in 1 to 500 characters what went wrong"))
    if problems:
        raise InvalidInput(problems)
    if key is None:
        return _grant(uow, actor, customer_id, points, reason, now, program)
    scope = f"goodwill:{actor.label}"
    digest = idempotency.request_hash(
        {"customer_id": customer_id, "points": points, "reason": reason, "program": program}
    )
    stored = idempotency.claim(uow, key, scope, digest, now=now)
    if stored is not None:
        return dict(stored.body)
    try:
        result = _grant(uow, actor, customer_id, points, reason, now, program)
    except BaseException:
        idempotency.release(uow, key, scope)
        raise
    idempotency.remember(uow, key, scope, idempotency.StoredAnswer(200, result))
    return result


def _grant(
    uow: UnitOfWork,
    actor: Actor,
    customer_id: int,
    points: int,
    reason: str,
    now: datetime,
    program: str | None,
) -> dict[str, Any]:
    with uow:
        conn = uow.conn
        home = access_live_customer(conn, actor, customer_id)
        lp = _program_for(conn, customer_id, program)
        _require_member(conn, lp, customer_id)
        limit = authority(lp.program, actor)
        earlier = 0
        if limit is not None:
            earlier = _granted_today(conn, actor, customer_id, lp.code, home, now)
        within = limit is None or earlier + points <= limit
        status = "granted" if within else "requested"
        goodwill_id = insert_one(
            conn,
            loyalty_goodwill,
            {
                "customer_id": customer_id,
                "program": lp.code,
                "points": points,
                "reason": reason,
                "status": status,
                "requested_by": actor.label,
                "requested_at": now,
            },
        )
        if within:
            _book(conn, lp, goodwill_id, customer_id, points, reason, actor, now)
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action=f"goodwill.{'grant' if within else 'request'}",
            entity="customer",
            entity_id=customer_id,
            after={
                "goodwill_id": goodwill_id,
                "points": points,
                "reason": reason,
                "program": lp.code,
                "limit": limit,
                "granted_today_before": earlier,
            },
        )
        uow.commit()
    return {
        "goodwill_id": goodwill_id,
        "status": status,
        "points": points,
        "program": lp.code,
        "limit": limit,
    }


def approve_goodwill(
    uow: UnitOfWork, actor: Actor, goodwill_id: int, now: datetime, *, note: str = ""
) -> dict[str, Any]:
    """A manager approves a request; the points are booked at once."""
    return _decide(uow, actor, goodwill_id, now, approve=True, note=note)


def decline_goodwill(
    uow: UnitOfWork, actor: Actor, goodwill_id: int, now: datetime, *, note: str = ""
) -> dict[str, Any]:
    """A manager declines a request, saying why."""
    return _decide(uow, actor, goodwill_id, now, approve=False, note=note)


def pending_requests(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    """Goodwill requests waiting for a manager, oldest first, within the actor's customers."""
    require(actor, "loyalty:write")
    with uow:
        rows = (
            uow.conn.execute(
                select(loyalty_goodwill)
                .where(loyalty_goodwill.c.status == "requested")
                .order_by(loyalty_goodwill.c.requested_at, loyalty_goodwill.c.id)
            )
            .mappings()
            .all()
        )
        out = []
        for row in rows:
            try:
                access_customer(uow.conn, actor, row["customer_id"])
            except NotFound:
                continue
            out.append(dict(row))
        return out


def _decide(
    uow: UnitOfWork, actor: Actor, goodwill_id: int, now: datetime, *, approve: bool, note: str
) -> dict[str, Any]:
    require(actor, "loyalty:write")
    with uow:
        conn = uow.conn
        row = (
            conn.execute(select(loyalty_goodwill).where(loyalty_goodwill.c.id == goodwill_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound("no such goodwill request", field="goodwill_id")
        if approve:  # the points are booked: not to a merged or erased customer
            access_live_customer(conn, actor, row["customer_id"])
        else:
            access_customer(conn, actor, row["customer_id"])
        if row["status"] != "requested":
            raise Conflict(f"this request was already {row['status']}", field="goodwill_id")
        lp = _program_for(conn, row["customer_id"], row["program"])
        limit = authority(lp.program, actor)
        if actor.kind not in ("cli", "system") and actor.role not in ("manager", "owner"):
            raise Forbidden("only a manager can decide goodwill requests")
        if approve and limit is not None and row["points"] > limit:
            raise Forbidden(f"{row['points']} points is above your goodwill limit of {limit}")
        if row["requested_by"] == actor.label:
            raise Forbidden("a request needs someone else's approval")
        status = "approved" if approve else "declined"
        taken = conn.execute(
            update(loyalty_goodwill)
            .where(loyalty_goodwill.c.id == goodwill_id, loyalty_goodwill.c.status == "requested")
            .values(status=status, decided_by=actor.label, decided_at=now, decision_note=note[:500])
        )
        if taken.rowcount != 1:
            raise Conflict("this request was decided meanwhile", field="goodwill_id")
        if approve:
            _require_member(conn, lp, row["customer_id"])
            _book(
                conn, lp, goodwill_id, row["customer_id"], row["points"], row["reason"], actor, now
            )
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action=f"goodwill.{'approve' if approve else 'decline'}",
            entity="customer",
            entity_id=row["customer_id"],
            before={"status": "requested"},
            after={"goodwill_id": goodwill_id, "status": status, "note": note},
        )
        uow.commit()
    return {
        "goodwill_id": goodwill_id,
        "status": status,
        "points": row["points"],
        "program": lp.code,
    }


def _program_for(conn: Connection, customer_id: int, code: str | None) -> LoadedProgram:
    programs = current_programs(conn)
    if code is not None:
        if code not in programs:
            raise InvalidInput([FieldProblem("program", f"no program {code!r} is loaded")])
        return programs[code]
    for candidate, lp in sorted(programs.items()):
        if load_members(conn, candidate, [customer_id]):
            return lp
    if len(programs) == 1:
        return next(iter(programs.values()))
    raise InvalidInput([FieldProblem("program", "say which program the points are for")])


def _granted_today(
    conn: Connection, actor: Actor, customer_id: int, program: str, home: int | None, now: datetime
) -> int:
    """Points this person granted this customer on their own authority today.

    "Today" is the local day at the customer's home location (UTC without one). The
    customer's row is locked first, so two grants at once on PostgreSQL count each other
    (SQLite serialises writers).
    """
    conn.execute(
        select(customers.c.id).where(customers.c.id == customer_id).with_for_update(key_share=True)
    )
    zone = None
    if home is not None:
        zone = conn.scalar(select(locations.c.timezone).where(locations.c.id == home))
    tz = ZoneInfo(zone) if zone else UTC
    day = now.astimezone(tz).date()
    start = datetime.combine(day, time(), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
    g = loyalty_goodwill.c
    total = conn.scalar(
        select(func.coalesce(func.sum(g.points), 0)).where(
            g.customer_id == customer_id,
            g.program == program,
            g.requested_by == actor.label,
            g.status == "granted",
            g.requested_at >= start,
            g.requested_at < end,
        )
    )
    return int(total or 0)


def _require_member(conn: Connection, lp: LoadedProgram, customer_id: int) -> None:
    """Goodwill never enrols anyone in an opt-in program: members join it themselves."""
    if lp.program.enrolment == "opt_in" and not load_members(conn, lp.code, [customer_id]):
        raise InvalidInput([FieldProblem("program", f"not a member of {lp.program.name} (opt-in)")])


def _book(
    conn: Connection,
    lp: LoadedProgram,
    goodwill_id: int,
    customer_id: int,
    points: int,
    reason: str,
    actor: Actor,
    now: datetime,
) -> None:
    """Put the gesture on the timeline and the points in the ledger, in one transaction."""
    from regulars.services.ingest import append_events  # late: ingest imports loyalty

    _, ingested = append_events(
        conn,
        [
            {
                "type": "goodwill",
                "source": OWN_SOURCE,
                "external_id": f"goodwill:{goodwill_id}",
                "occurred_at": now.isoformat(),
                "customer_id": customer_id,
                "staff_id": actor.id if actor.kind == "staff" else None,
                "points": points,
                "reason": reason,
            }
        ],
        now=now,
    )
    event_id = ingested[0].id if ingested else None
    conn.execute(
        update(loyalty_goodwill)
        .where(loyalty_goodwill.c.id == goodwill_id)
        .values(event_id=event_id)
    )
    member = load_members(conn, lp.code, [customer_id], lock=True).get(customer_id)
    book = Book(conn, now, actor.label)
    if member is None:
        member = new_member(customer_id, lp.program, now, "auto")
    _, expires = lot_dates(lp.program, now)
    book.credit(
        member,
        "goodwill",
        points,
        at=now,
        reason=f"goodwill: {reason}",
        event_id=event_id,
        matured=True,
        expires_at=expires,
        counts_as_earned=False,
    )
    book.flush()


__all__ = [
    "approve_goodwill",
    "authority",
    "decline_goodwill",
    "grant_goodwill",
    "pending_requests",
]
