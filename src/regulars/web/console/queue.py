"""My queue: the calls and cards planned for the signed-in person today, each with its brief.

Recording an outcome is one form: reached or not, a face for how they felt, a note. The
planner's ``record_outcome`` closes the task and puts the call and the note on the timeline.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from regulars.bootstrap import Runtime
from regulars.domain.briefs import Brief
from regulars.domain.errors import Conflict, FieldProblem, InvalidInput, RegularsError
from regulars.services import accounts, briefs, queries, tasks
from regulars.services import notes as customer_notes
from regulars.services.locations import list_locations
from regulars.services.outcomes import record_outcome
from regulars.web.console.customer import zone_of
from regulars.web.console.rendering import page, redirect
from regulars.web.deps import ConsoleSession, RuntimeDep, local_today, verify_csrf

router = APIRouter()
Csrf = [Depends(verify_csrf)]

#: Task kinds worked from the queue; counter prompts (``in_person``) show up at check-in.
QUEUE_KINDS = frozenset({"call", "card"})
TITLES = {"call": "Call", "card": "Handwritten card"}


def queue_context(runtime: Runtime, session: accounts.StaffSession) -> dict[str, Any]:
    actor = session.actor
    today = local_today(runtime, actor)
    open_tasks = [
        t
        for t in tasks.my_tasks(runtime.uow(readonly=True), actor, today=today, status="open")
        if t["kind"] in QUEUE_KINDS
    ]
    done = [
        t
        for t in tasks.my_tasks(runtime.uow(readonly=True), actor, today=today, status="done")
        if t["kind"] in QUEUE_KINDS
    ]
    places = list_locations(runtime.uow(readonly=True), actor)
    cards = []
    for task in open_tasks:
        raw = briefs.brief_for_task(
            runtime.uow(readonly=True), actor, task["id"], now=runtime.now()
        )
        brief = Brief.model_validate({k: v for k, v in raw.items() if k in Brief.model_fields})
        profile = queries.get_customer(runtime.uow(readonly=True), actor, task["customer_id"])
        cards.append(
            {
                "id": task["id"],
                "kind": task["kind"],
                "customer_id": task["customer_id"],
                "name": task["customer"],
                "title": f"{TITLES.get(task['kind'], task['kind'])}: {task['summary']}",
                "phone": profile.phone if task["kind"] == "call" else None,
                "tier": brief.tier,
                "overdue": task["overdue"],
                "brief": brief,
                "zone": zone_of(places, profile.home_location)[0],
                "done": False,
            }
        )
    return {"tasks": cards, "today": today, "done_count": len(done)}


@router.get("/queue", response_class=HTMLResponse)
def my_queue(request: Request, runtime: RuntimeDep, session: ConsoleSession) -> HTMLResponse:
    return page(
        request, session, "console/queue.html", queue_context(runtime, session), active="queue"
    )


def _keep_note(
    runtime: Runtime, session: accounts.StaffSession, customer_id: int, task_id: int, text: str
) -> FieldProblem:
    """A colleague closed the task first: what this person typed is kept as a note on the
    customer's timeline instead of being thrown away (once, however often it is sent)."""
    digest = hashlib.sha256(text.strip().encode()).hexdigest()[:16]
    customer_notes.add_note(
        runtime.uow(),
        session.actor,
        customer_id,
        text.strip(),
        now=runtime.now(),
        key=f"task-note:{task_id}:{session.actor.id}:{digest}",
    )
    return FieldProblem("notes", "your note was kept on the customer's timeline")


@router.post("/tasks/{task_id}/outcome", dependencies=Csrf)
def outcome(
    request: Request,
    runtime: RuntimeDep,
    session: ConsoleSession,
    task_id: int,
    result: Annotated[str, Form(alias="outcome", max_length=20)] = "reached",
    emotion: Annotated[str, Form(max_length=10)] = "",
    notes: Annotated[str, Form(max_length=5000)] = "",
    customer_id: Annotated[int | None, Form(gt=0, le=2**63 - 1)] = None,
) -> Response:
    """One click: the outcome, the face, the note; the task leaves the queue."""
    data: dict[str, Any] = {"outcome": result, "notes": notes}
    if emotion:
        data["emotion"] = emotion
    try:
        record_outcome(runtime.uow(), session.actor, task_id, data, now=runtime.now())
    except RegularsError as error:
        if error.http_status == 404:
            raise
        problems = (
            list(error.problems)
            if isinstance(error, InvalidInput)
            else [FieldProblem(error.field or "", error.message)]
        )
        if isinstance(error, Conflict) and notes.strip() and customer_id is not None:
            problems.append(_keep_note(runtime, session, customer_id, task_id, notes))
        context = queue_context(runtime, session) | {"problems": problems}
        return page(
            request,
            session,
            "console/queue.html",
            context,
            active="queue",
            status_code=error.http_status,
        )
    return redirect("/console/queue", "outcome")
