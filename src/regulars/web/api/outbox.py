"""``/api/v1/outbox``: what waits to be sent, what failed and why; send a dead message again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from regulars.services.outbox import (
    list_messages,
    message_history,
    outbox_counts,
    requeue_message,
)
from regulars.web.deps import ActorDep, IdempotencyKey, RuntimeDep, idempotent
from regulars.web.schemas import ErrorOut

router = APIRouter(
    prefix="/api/v1",
    tags=["outbox"],
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)


class OutboxMessageOut(BaseModel):
    key: str
    customer_id: int
    channel: str
    moment: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    reason: str
    updated_at: datetime


class OutboxOut(BaseModel):
    counts: dict[str, int]
    messages: list[OutboxMessageOut]


class SendLogEntryOut(BaseModel):
    attempt: int
    at: datetime
    worker_id: str
    outcome: str
    detail: str


class OutboxHistoryOut(OutboxMessageOut):
    template: str
    send_after: datetime
    sent_at: datetime | None
    provider_id: str
    log: list[SendLogEntryOut]


class RequeuedOut(BaseModel):
    key: str
    status: str


@router.get("/outbox", response_model=OutboxOut, summary="Messages by status, newest first")
def outbox_view(
    actor: ActorDep,
    runtime: RuntimeDep,
    status: Annotated[
        str | None,
        Query(
            max_length=20, description="queued, sending, sent, failed, dead, suppressed, deferred"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> OutboxOut:
    rows = list_messages(runtime.uow(readonly=True), actor, status=status, limit=limit)
    counts = outbox_counts(runtime.uow(readonly=True), actor)
    return OutboxOut(counts=counts, messages=[OutboxMessageOut(**row) for row in rows])


@router.get(
    "/outbox/{key}",
    response_model=OutboxHistoryOut,
    summary="One message and its send log",
    responses={404: {"model": ErrorOut}},
)
def message_view(actor: ActorDep, runtime: RuntimeDep, key: str) -> OutboxHistoryOut:
    return OutboxHistoryOut(**message_history(runtime.uow(readonly=True), actor, key))


@router.post(
    "/outbox/{key}/retry",
    response_model=RequeuedOut,
    summary="Send a failed or dead message again (managers)",
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
def retry_message(
    request: Request,
    actor: ActorDep,
    runtime: RuntimeDep,
    key: str,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """An integration that lost the answer may send the same ``Idempotency-Key`` again and
    gets the first answer, not a 409 for a message its own first call queued."""

    def produce() -> tuple[int, Any]:
        requeue_message(runtime.uow(), actor, key, now=runtime.now())
        return 200, RequeuedOut(key=key, status="queued")

    return idempotent(request, actor, idempotency_key, {"key": key}, produce)


__all__ = ["router"]
