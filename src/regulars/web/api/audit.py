"""``GET /api/v1/audit``: the audit log for managers, filtered and paged."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from regulars.services.audit_trail import MAX_PAGE, browse_audit
from regulars.web.deps import ActorDep, RuntimeDep
from regulars.web.schemas import ErrorOut, Page

router = APIRouter(
    prefix="/api/v1",
    tags=["audit"],
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@router.get("/audit", response_model=Page[AuditEntryOut], summary="The audit log, newest first")
def audit(
    actor: ActorDep,
    runtime: RuntimeDep,
    entity: Annotated[str | None, Query(max_length=40, examples=["customer"])] = None,
    entity_id: Annotated[str | None, Query(max_length=60)] = None,
    by: Annotated[
        str | None, Query(max_length=200, description="Actor label, e.g. staff:3 or api_key:1.")
    ] = None,
    action: Annotated[str | None, Query(max_length=60, examples=["customer.update"])] = None,
    since: Annotated[datetime | None, Query(description="Aware ISO 8601 date-time.")] = None,
    until: Annotated[datetime | None, Query(description="Aware ISO 8601 date-time.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[AuditEntryOut]:
    page = browse_audit(
        runtime.uow(readonly=True),
        actor,
        entity=entity,
        entity_id=entity_id,
        by=by,
        action=action,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return Page[AuditEntryOut](
        items=[AuditEntryOut.model_validate(e) for e in page.entries],
        next_cursor=page.next_cursor,
    )
