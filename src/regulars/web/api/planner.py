"""The planner's API: check-ins at the counter, the day's plan, my task queue, briefs, outcomes.

Thin: parse, call the service, answer. Errors become the app's one error shape (422 names
the field, 404 for anything outside the caller's locations).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request

from regulars.services.access import require
from regulars.services.briefs import brief_for_task
from regulars.services.checkin import check_in, mark_greeted
from regulars.services.outcomes import record_outcome
from regulars.services.tasks import my_tasks, plan_of_day
from regulars.web.deps import (
    ActorDep,
    IdempotencyKey,
    NowDep,
    RuntimeDep,
    idempotent,
    local_today,
)
from regulars.web.schemas import ErrorOut

router = APIRouter(prefix="/api/v1", tags=["planner"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    422: {"model": ErrorOut},
}

#: Ids in paths and queries: a number no row can have is a 422 naming it, not a database error.
TaskId = Annotated[int, Path(gt=0, le=2**62, description="The task's id.")]
CheckinId = Annotated[int, Path(gt=0, le=2**62, description="The check-in's id.")]

CHECKIN_EXAMPLE = {"card_number": "OPT-0001", "location": "OPT-LIS"}


@router.post(
    "/check-ins",
    status_code=201,
    summary="Record a check-in and get what the counter should know now",
    responses=ERRORS,
)
def post_check_in(
    request: Request,
    actor: ActorDep,
    runtime: RuntimeDep,
    body: Annotated[
        dict[str, Any],
        Body(
            description="`card_number` or `customer_id`, `location` (code), optional "
            "`staff_id`, `at` (aware time, default now) and `request_id` (retry-safe).",
            examples=[CHECKIN_EXAMPLE],
        ),
    ],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def produce() -> tuple[int, Any]:
        view = check_in(
            runtime.uow(),
            actor,
            body,
            now=runtime.now(),
            leap_rule=runtime.settings.leap_birthday_rule,
        )
        return (200 if view["duplicate"] else 201), view

    return idempotent(request, actor, idempotency_key, body, produce)


@router.post(
    "/check-ins/{checkin_id}/greeted",
    summary="Staff greeted the customer in person (e.g. for the birthday)",
    responses=ERRORS,
)
def post_greeted(
    checkin_id: CheckinId,
    actor: ActorDep,
    runtime: RuntimeDep,
    body: Annotated[dict[str, Any] | None, Body(examples=[{"moment": "birthday"}])] = None,
) -> Any:
    return mark_greeted(runtime.uow(), actor, checkin_id, body or {}, now=runtime.now())


@router.get("/plan", summary="The decisions taken for a day, with their reasons", responses=ERRORS)
def get_plan(
    actor: ActorDep,
    runtime: RuntimeDep,
    day: Annotated[
        date | None,
        Query(
            alias="date",
            description="Default: today at the location asked for, else where the caller works.",
        ),
    ] = None,
    location: Annotated[str | None, Query(description="A location code.")] = None,
) -> Any:
    require(actor, "planner:read")
    the_day = day or local_today(runtime, actor, location)
    decisions = plan_of_day(runtime.uow(readonly=True), actor, the_day, location=location)
    return {"date": the_day.isoformat(), "decisions": decisions}


@router.get("/tasks", summary="My task queue: calls, counter prompts, cards", responses=ERRORS)
def get_tasks(
    actor: ActorDep,
    runtime: RuntimeDep,
    status: str = "open",
    staff_id: Annotated[
        int | None, Query(gt=0, le=2**31 - 1, description="Someone else's queue.")
    ] = None,
) -> Any:
    require(actor, "planner:read")
    today = local_today(runtime, actor)
    tasks = my_tasks(
        runtime.uow(readonly=True), actor, today=today, status=status, staff_id=staff_id
    )
    return {"tasks": tasks}


@router.get("/tasks/{task_id}/brief", summary="A task's conversation brief", responses=ERRORS)
def get_brief(task_id: TaskId, actor: ActorDep, runtime: RuntimeDep, now: NowDep) -> Any:
    require(actor, "planner:read")
    return brief_for_task(runtime.uow(readonly=True), actor, task_id, now=now)


@router.post(
    "/tasks/{task_id}/outcome",
    summary="How the touch went: closes the task, writes call and note events",
    responses=ERRORS,
)
def post_outcome(
    task_id: TaskId,
    actor: ActorDep,
    runtime: RuntimeDep,
    body: Annotated[
        dict[str, Any],
        Body(
            examples=[
                {
                    "outcome": "reached",
                    "emotion": "happy",
                    "notes": "Back from the Algarve in April; asks about the ID.4 recall.",
                    "follow_up_on": "2026-05-15",
                }
            ]
        ),
    ],
) -> Any:
    return record_outcome(runtime.uow(), actor, task_id, body, now=runtime.now())
