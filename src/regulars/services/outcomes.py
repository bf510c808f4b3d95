"""``record_outcome``: how a call (or a card, or a counter prompt) went, back on the timeline.

The outcome closes the task and writes what happened as events (a ``call`` with its
emotion rating, a ``note`` with what the customer said) so the next person sees it. A call
that did not reach the customer is tried again the next day, up to the playbook's number
of attempts (``thresholds.max_call_attempts`` of the playbook in force for the task's kind of
location), and then becomes a handwritten card; a follow-up date becomes a new call.
"Tomorrow" is the day after today where the customer lives (their home location's time
zone), or the first day after it that the rep works; a follow-up date before today at the
task's location is refused, and one on the rep's day off goes to the team at the location
(unassigned), so that somebody makes the call that day. A customer who
has died or asked not to be contacted since the task was planned gets no retry, no card and
no follow-up: the guards' first rule holds for the work an outcome plans, as for the plan.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select, update

from regulars.domain import guards
from regulars.domain.access import Actor
from regulars.domain.capacity import first_working_day, works_on
from regulars.domain.customers import Role
from regulars.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound, validate
from regulars.domain.events import Emotion
from regulars.domain.guards import Proposal, Situation
from regulars.domain.playbooks import Thresholds
from regulars.services.access import access_customer, require, staff_location_ids
from regulars.services.briefs import task_brief
from regulars.services.ingest import append_events
from regulars.services.playbook_store import active_playbooks
from regulars.store import audit
from regulars.store.planner_tables import staff_tasks
from regulars.store.tables import customers, locations, staff
from regulars.store.uow import UnitOfWork


class OutcomeIn(BaseModel):
    """What the member of staff reports after the touch."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: Literal["reached", "voicemail", "not_reached", "done"]
    emotion: Emotion | None = None
    notes: Annotated[str, Field(max_length=5000)] = ""
    follow_up_on: date | None = None
    duration_s: Annotated[int, Field(ge=0, le=86_400)] | None = None


def record_outcome(
    uow: UnitOfWork, actor: Actor, task_id: int, data: Any, *, now: datetime
) -> dict[str, Any]:
    """Close the task, write the events, and re-plan per policy; see the module docstring."""
    require(actor, "planner:write")
    report = validate(OutcomeIn, data)
    with uow:
        conn = uow.conn
        # Locked: two taps at once on PostgreSQL queue here, and the second finds it closed.
        task = conn.execute(
            select(staff_tasks).where(staff_tasks.c.id == task_id).with_for_update()
        ).first()
        if task is None:
            raise NotFound("no such task", field="task_id")
        cid = int(task.customer_id)
        try:
            home = access_customer(conn, actor, cid)
        except NotFound:
            raise NotFound("no such task", field="task_id") from None
        if task.status != "open":
            raise Conflict(f"this task is already {task.status}", field="task_id")
        if task.kind != "call" and report.outcome in ("voicemail", "not_reached"):
            raise InvalidInput(
                [
                    FieldProblem(
                        "outcome", f"a {task.kind} task is 'done' or 'reached', not unanswered"
                    )
                ]
            )
        staff_id = actor.id if actor.kind == "staff" else task.assignee_staff_id
        place = conn.execute(
            select(locations.c.code, locations.c.kind, locations.c.timezone).where(
                locations.c.id == task.location_id
            )
        ).first()
        code = place.code if place is not None else None
        today = _local_today(place.timezone if place is not None else None, now)
        if report.follow_up_on is not None and report.follow_up_on < today:
            raise InvalidInput(
                [FieldProblem("follow_up_on", f"a date from today ({today}) on, not in the past")]
            )
        status = str(conn.scalar(select(customers.c.status).where(customers.c.id == cid)))
        barred = _barred(status, "follow_up", "call", now)
        if report.follow_up_on is not None and barred is not None:
            raise InvalidInput([FieldProblem("follow_up_on", f"no follow-up call: {barred}")])
        envelope: dict[str, Any] = {
            "source": "tasks",
            "occurred_at": now.isoformat(),
            "customer_id": cid,
        }
        if code is not None:
            envelope["location"] = str(code)
        if staff_id is not None:
            envelope["staff_id"] = int(staff_id)
        items: list[dict[str, Any]] = []
        if task.kind == "call":
            call: dict[str, Any] = {
                **envelope,
                "type": "call",
                "external_id": f"task:{task_id}:call:{task.attempt}",
                "direction": "outbound",
                "outcome": "reached" if report.outcome == "done" else report.outcome,
                "notes": report.notes,
                "task_id": task_id,
            }
            if report.emotion is not None:
                call["emotion"] = report.emotion.value
            if report.duration_s is not None:
                call["duration_s"] = report.duration_s
            items.append(call)
        if report.notes:
            items.append(
                {
                    **envelope,
                    "type": "note",
                    "external_id": f"task:{task_id}:note:{task.attempt}",
                    "text": report.notes,
                    "tags": [task.kind, task.moment[:40]],
                }
            )
        written, _ = append_events(conn, items, now=now)
        rejected = [r for r in written.results if r.status == "rejected"]
        if rejected:
            raise InvalidInput(list(rejected[0].errors))
        brief = task_brief(conn, task._mapping, now=now, actor=actor).model_dump(mode="json")
        closed = conn.execute(
            update(staff_tasks)
            .where(staff_tasks.c.id == task_id, staff_tasks.c.status == "open")
            .values(status="done", outcome=report.outcome, closed_at=now, brief=brief)
        ).rowcount
        if closed != 1:
            raise Conflict("this task was closed meanwhile", field="task_id")
        follow: list[int] = []
        reached = report.outcome in ("reached", "done")
        if task.kind == "call" and not reached:
            attempts = _max_call_attempts(conn, place.kind if place is not None else None)
            zone = conn.scalar(select(locations.c.timezone).where(locations.c.id == home))
            if zone is None and place is not None:  # no home location: the task's
                zone = place.timezone
            tomorrow = _local_today(zone, now) + timedelta(days=1)
            retry = _retry(conn, task._mapping, now, attempts, tomorrow, status)
            if retry is not None:
                follow.append(retry)
        if report.follow_up_on is not None:
            rep = task.assignee_staff_id
            rep_days = _working_days(conn, rep)
            in_that_day = rep_days is None or works_on(report.follow_up_on, rep_days)
            follow.append(
                _new_task(
                    conn,
                    task._mapping,
                    now,
                    kind="call",
                    moment="follow_up",
                    due=report.follow_up_on,
                    attempt=1,
                    summary=f"follow-up: {report.notes or task.summary}"[:500],
                    assignee=rep if in_that_day else None,
                )
            )
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="task.outcome",
            entity="staff_task",
            entity_id=task_id,
            before={"status": task.status},
            after={"status": "done", "outcome": report.outcome, "follow_up_tasks": follow},
        )
        uow.commit()
    return {
        "task_id": task_id,
        "status": "done",
        "outcome": report.outcome,
        "events": [r.event_id for r in written.results if r.event_id is not None],
        "new_tasks": follow,
    }


def _max_call_attempts(conn: Any, location_kind: str | None) -> int:
    """How many calls in all the playbook in force for this kind of location allows."""
    playbook = active_playbooks(conn).for_location_kind(location_kind)
    thresholds = playbook.thresholds if playbook is not None else Thresholds()
    return thresholds.max_call_attempts


def _local_today(zone: str | None, now: datetime) -> date:
    """The date it is now at a location (UTC without one)."""
    return now.astimezone(ZoneInfo(zone) if zone else UTC).date()


def _barred(status: str, moment: str, touch: str, now: datetime) -> str | None:
    """Why no new ``touch`` may be planned for a customer of this status (they died, or asked
    not to be contacted), or None; the same rule the planner's guards apply."""
    verdict = guards.contactable(Proposal(moment, touch), Situation(status=status), now, 0)
    return verdict.reason if verdict is not None else None


def _retry(
    conn: Any, task: Any, now: datetime, max_attempts: int, tomorrow: date, status: str
) -> int | None:
    """Not reached: call again ``tomorrow`` (the customer's), or after the last attempt send
    a handwritten card; nothing when the customer may no longer be contacted that way."""
    again = int(task["attempt"]) < max_attempts
    if _barred(status, str(task["moment"]), "call" if again else "card", now) is not None:
        return None
    if again:
        rep = task["assignee_staff_id"]
        return _new_task(
            conn,
            task,
            now,
            kind="call",
            moment=task["moment"],
            due=_on_duty(conn, rep, tomorrow),
            attempt=int(task["attempt"]) + 1,
            summary=task["summary"],
            assignee=rep,
        )
    owner = conn.scalar(
        select(customers.c.owner_staff_id).where(customers.c.id == task["customer_id"])
    )
    writer = owner if owner is not None else task["assignee_staff_id"]
    if writer is not None and not _reaches(conn, int(writer), task["location_id"]):
        writer = None  # the team at the customer's location writes it
    return _new_task(
        conn,
        task,
        now,
        kind="card",
        moment=task["moment"],
        due=_on_duty(conn, writer, tomorrow + timedelta(days=1)),
        attempt=1,
        summary=f"{task['summary']} (not reached after {_calls(int(task['attempt']))})"[:500],
        assignee=writer,
    )


def _reaches(conn: Any, staff_id: int, location_id: int | None) -> bool:
    """Whether this member of staff can open a profile of this home location (their queue
    shows only those): an owner everywhere, anyone else at their own locations."""
    role = conn.scalar(select(staff.c.role).where(staff.c.id == staff_id))
    if role is None:
        return False
    everywhere = role == Role.owner.value or location_id is None
    return everywhere or location_id in staff_location_ids(conn, staff_id)


def _working_days(conn: Any, staff_id: int | None) -> frozenset[str] | None:
    """The days a member of staff works, or None for nobody in particular."""
    if staff_id is None:
        return None
    days = conn.scalar(select(staff.c.working_days).where(staff.c.id == staff_id))
    return frozenset(str(days).split(",")) if days is not None else None


def _on_duty(conn: Any, staff_id: int | None, day: date) -> date:
    """``day``, or the next day the assignee works: a retry on their day off waits for them."""
    days = _working_days(conn, staff_id)
    return day if days is None else first_working_day(day, days)


def _calls(n: int) -> str:
    return f"{n} call" if n == 1 else f"{n} calls"


def _new_task(
    conn: Any,
    task: Any,
    now: datetime,
    *,
    kind: str,
    moment: str,
    due: date,
    attempt: int,
    summary: str,
    assignee: int | None,
) -> int:
    new_id = conn.execute(
        insert(staff_tasks)
        .values(
            decision_id=task["decision_id"] if moment == task["moment"] else None,
            customer_id=task["customer_id"],
            kind=kind,
            moment=moment,
            assignee_staff_id=assignee,
            location_id=task["location_id"],
            due_on=due,
            status="open",
            attempt=attempt,
            summary=summary,
            created_at=now,
        )
        .returning(staff_tasks.c.id)
    ).scalar_one()
    return int(new_id)
