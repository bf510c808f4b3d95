"""``GET /api/v1/audit``: the audit log for managers, filtered and paged."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from regulars.services.audit_trail import MAX_PAGE, AuditEntry, browse_audit
from regulars.web.deps import ActorDep, RuntimeDep
from regulars.web.schemas import ErrorOut, Page

router = APIRouter(
    prefix="/api/v1",
    tags=["audit"],
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)


@router.get("/audit", response_model=Page[AuditEntry], summary="The audit log, newest first")
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
) -> Page[AuditEntry]:
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
    return Page[AuditEntry](
        items=list(page.entries),
        next_cursor=page.next_cursor,
    )
