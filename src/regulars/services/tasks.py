"""Read side of the planner: a member of staff's task queue and a day's plan as decided.

The queue is "mine": calls and cards assigned to me, plus the unassigned counter prompts and
pool tasks of my locations, most urgent first. The plan is what ``plan_day`` wrote, scoped
to what the reader may see.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true

from regulars.domain.access import Actor
from regulars.domain.errors import FieldProblem, InvalidInput
from regulars.services.access import customers_in_scope, require_location
from regulars.services.send_guard import WIN_BACK_MOMENTS
from regulars.store.outbox_tables import outbox
from regulars.store.planner_tables import plan_decisions, staff_tasks
from regulars.store.tables import customers, locations, staff
from regulars.store.uow import UnitOfWork

STATUSES = ("open", "done", "cancelled", "expired")


def my_tasks(
    uow: UnitOfWork,
    actor: Actor,
    *,
    today: date,
    status: str = "open",
    staff_id: int | None = None,
    horizon_days: int = 2,
) -> list[dict[str, Any]]:
    """Open work for ``staff_id`` (default: the actor if staff), most urgent first.

    Planned tasks show from the day they were planned; follow-ups and retries from
    ``horizon_days`` before their day.
    """
    if status not in STATUSES:
        raise InvalidInput([FieldProblem("status", f"expected one of {', '.join(STATUSES)}")])
    who = staff_id if staff_id is not None else (actor.id if actor.kind == "staff" else None)
    t, c = staff_tasks.c, customers.c
    mine = or_(t.assignee_staff_id == who, t.assignee_staff_id.is_(None)) if who else true()
    query = (
        select(
            t.id,
            t.kind,
            t.moment,
            t.summary,
            t.due_on,
            t.valid_until,
            t.status,
            t.attempt,
            t.assignee_staff_id,
            t.customer_id,
            c.first_name,
            c.last_name,
            staff.c.name,
        )
        .select_from(
            staff_tasks.join(customers, c.id == t.customer_id).outerjoin(
                staff, staff.c.id == t.assignee_staff_id
            )
        )
        .where(
            t.status == status,
            mine,
            customers_in_scope(actor),
            # A planned task's due date is a deadline (call within two days): it shows at once.
            # A follow-up or a retry waits until its day is near.
            or_(
                t.due_on <= today + timedelta(days=horizon_days),
                and_(t.decision_id.is_not(None), t.attempt == 1),
            ),
            or_(t.valid_until.is_(None), t.valid_until >= today),
        )
        .order_by(t.due_on, t.kind, t.id)
        .limit(500)
    )
    if status == "open":
        query = query.where(_still_wanted())
    with uow:
        rows = uow.conn.execute(query).all()
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "moment": r.moment,
            "summary": r.summary,
            "due_on": r.due_on.isoformat(),
            "valid_until": r.valid_until.isoformat() if r.valid_until else None,
            "status": r.status,
            "attempt": r.attempt,
            "assignee_staff_id": r.assignee_staff_id,
            "assignee": r.name,
            "customer_id": r.customer_id,
            "customer": f"{r.first_name} {r.last_name or ''}".strip(),
            "overdue": r.due_on < today,
        }
        for r in rows
    ]


def _still_wanted() -> ColumnElement[bool]:
    """Open work only for a customer it may still be done for, by the guards' first rule:
    nobody calls or writes to one who died (or was erased) since the plan, and one who
    asked not to be contacted keeps only the prompt at the counter. A "we miss you" touch
    is over once the customer has been in since it was planned (as its e-mail is stopped
    at send time)."""
    c, t = customers.c, staff_tasks.c
    reachable = or_(c.status == "active", and_(c.status == "do_not_contact", t.kind == "in_person"))
    still_missed = or_(
        t.moment.not_in(sorted(WIN_BACK_MOMENTS)),
        c.last_visit_at.is_(None),
        c.last_visit_at <= t.created_at,
    )
    return and_(reachable, still_missed)


def plan_of_day(
    uow: UnitOfWork, actor: Actor, day: date, *, location: str | None = None, limit: int = 2000
) -> list[dict[str, Any]]:
    """The decisions taken for ``day``, most important first, with what delivery made of them.

    A message the guards stopped at send time says so in its reasons, so the plan explains
    why the 10:00 birthday e-mail never left after the 09:40 check-in.
    """
    d, c = plan_decisions.c, customers.c
    conditions = [d.plan_date == day, customers_in_scope(actor)]
    with uow:
        conn = uow.conn
        if location is not None:
            lid = conn.scalar(select(locations.c.id).where(locations.c.code == location))
            if lid is None:
                raise InvalidInput([FieldProblem("location", f"unknown location {location!r}")])
            require_location(actor, lid)  # an empty plan would read as "nothing planned"
            conditions.append(d.location_id == lid)
        rows = conn.execute(
            select(
                d.id,
                d.customer_id,
                d.moment,
                d.occasion,
                d.status,
                d.touch,
                d.purpose,
                d.send_after,
                d.due_on,
                d.reasons,
                d.merged_into_id,
                c.first_name,
                c.last_name,
                staff.c.name,
                outbox.c.status.label("delivery"),
                outbox.c.reason.label("why_not"),
            )
            .select_from(
                plan_decisions.join(customers, c.id == d.customer_id)
                .outerjoin(staff, staff.c.id == d.assignee_staff_id)
                .outerjoin(outbox, and_(outbox.c.decision_id == d.id, outbox.c.channel == d.touch))
            )
            .where(and_(*conditions))
            .order_by(d.priority.desc(), d.customer_id, d.id)
            .limit(limit)
        ).all()
    return [
        {
            "decision_id": r.id,
            "customer_id": r.customer_id,
            "customer": f"{r.first_name} {r.last_name or ''}".strip(),
            "moment": r.moment,
            "occasion": r.occasion,
            "status": r.status,
            "touch": r.touch,
            "purpose": r.purpose,
            "assignee": r.name,
            "when": (r.send_after.isoformat() if r.send_after else None)
            or (r.due_on.isoformat() if r.due_on else None),
            "merged_into": r.merged_into_id,
            "delivery": r.delivery,
            "reasons": "; ".join([*(r.reasons or []), *_at_send_time(r.delivery, r.why_not)]),
        }
        for r in rows
    ]


def _at_send_time(status: str | None, reason: str | None) -> list[str]:
    """What the guards said when the message was due (a check-in since the plan, say)."""
    if status in ("suppressed", "deferred") and reason:
        return [f"at send time: {reason}"]
    return []
