"""``POST /api/v1/events``: one event or a batch, each with its own verdict.

A single event answers 201 (created), 200 (a duplicate, already on the timeline) or 422
naming the field. A batch (a JSON array) answers 200 with a verdict per item: valid items
are written, rejected ones write nothing, and a repeat of the batch changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from regulars.domain.errors import FieldProblem, InvalidInput
from regulars.services.event_intake import MAX_BATCH, record_events
from regulars.web.deps import ActorDep, IdempotencyKey, RuntimeDep, idempotent
from regulars.web.schemas import ErrorOut, IngestOut

router = APIRouter(prefix="/api/v1", tags=["events"])

EXAMPLE = {
    "type": "purchase",
    "source": "pos",
    "external_id": "receipt-4711",
    "occurred_at": "2026-05-01T09:40:00+01:00",
    "card_number": "C-100",
    "location": "CAFE-LIS",
    "lines": [{"sku": "latte", "category": "drinks", "quantity": 1, "unit_price": 350}],
}


@router.post(
    "/events",
    response_model=IngestOut,
    summary="Add events to customers' timelines (one object, or an array of up to 1000)",
    responses={
        201: {"model": IngestOut, "description": "The single event was created."},
        401: {"model": ErrorOut},
        403: {"model": ErrorOut},
        422: {"model": ErrorOut, "description": "The single event (or the batch) is invalid."},
    },
)
def post_events(
    request: Request,
    actor: ActorDep,
    runtime: RuntimeDep,
    body: Annotated[
        dict[str, Any] | list[Any],
        Body(
            description=f"An event object, or an array of at most {MAX_BATCH}. Each event has "
            "`type`, `source`, `external_id`, an aware `occurred_at`, and `customer_id` or "
            "`card_number`, plus its type's own fields.",
            examples=[EXAMPLE],
        ),
    ],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    single = isinstance(body, dict)
    items = [body] if single else list(body)
    if not items:
        raise InvalidInput([FieldProblem("", "send at least one event")])

    def produce() -> tuple[int, Any]:
        report = record_events(runtime.uow(), actor, items, now=runtime.now())
        answer = IngestOut.of(report)
        if not single:
            return 200, answer
        result = report.results[0]
        if result.status == "rejected":
            raise InvalidInput(list(result.errors))
        return (201 if result.status == "created" else 200), answer

    return idempotent(request, actor, idempotency_key, body, produce)
