"""Goodwill: the person in front of the customer makes it right, now, within their limit.

Within the role's authority the loyalty service books the points at once (with the reason,
an audit entry and a timeline event); above it the grant becomes a request, and managers see
the requests waiting for them here, to approve or decline.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from regulars.bootstrap import Runtime
from regulars.domain.errors import FieldProblem, InvalidInput, NotFound, RegularsError
from regulars.services import accounts, goodwill, queries
from regulars.services.access import is_manager
from regulars.services.locations import list_locations
from regulars.services.loyalty import programs_in_force
from regulars.web.console.customer import form_key, zone_of
from regulars.web.console.rendering import page, redirect
from regulars.web.deps import ConsoleSession, RuntimeDep, verify_csrf

router = APIRouter()
Csrf = [Depends(verify_csrf)]


def limit_text(runtime: Runtime, session: accounts.StaffSession) -> str:
    """What this role may grant one customer a day, per program, in words."""
    programs = programs_in_force(runtime.uow(readonly=True))
    if not programs:
        return "no loyalty program is running yet"
    parts = []
    for lp in programs.values():
        limit = goodwill.authority(lp.program, session.actor)
        amount = "no limit" if limit is None else f"up to {limit:,} points"
        parts.append(
            f"{amount} per customer a day ({lp.program.name})"
            if len(programs) > 1
            else f"{amount} per customer a day"
        )
    return "; ".join(parts)


def goodwill_context(
    runtime: Runtime, session: accounts.StaffSession, customer_id: int | None
) -> dict[str, Any]:
    actor = session.actor
    customer = None
    if customer_id is not None:
        profile = queries.get_customer(runtime.uow(readonly=True), actor, customer_id)
        customer = {"id": profile.id, "name": f"{profile.first_name} {profile.last_name}".strip()}
    pending: list[dict[str, Any]] = []
    manager = is_manager(actor)
    if manager:
        places = list_locations(runtime.uow(readonly=True), actor)
        people = {
            f"staff:{s.id}": s.name for s in accounts.list_staff(runtime.uow(readonly=True), actor)
        }
        for row in goodwill.pending_requests(runtime.uow(readonly=True), actor):
            try:
                who = queries.get_customer(runtime.uow(readonly=True), actor, row["customer_id"])
            except NotFound:
                continue
            pending.append(
                {
                    "id": row["id"],
                    "customer_id": row["customer_id"],
                    "customer_name": f"{who.first_name} {who.last_name}".strip(),
                    "points": row["points"],
                    "reason": row["reason"],
                    "requested_by": people.get(row["requested_by"], row["requested_by"]),
                    "at": row["requested_at"],
                    "zone": zone_of(places, who.home_location)[0],
                    "mine": row["requested_by"] == actor.label,
                }
            )
    return {
        "customer": customer,
        "grant_key": form_key(),
        "limit_text": limit_text(runtime, session),
        "is_manager": manager,
        "pending": pending,
    }


def _problems(error: RegularsError) -> list[FieldProblem]:
    if isinstance(error, InvalidInput):
        return list(error.problems)
    if error.field == "Idempotency-Key":  # the form's one-time key, sent again
        return [FieldProblem("points", "this form was already sent; open Goodwill again")]
    return [FieldProblem(error.field or "", error.message)]


@router.get("/goodwill", response_class=HTMLResponse)
def goodwill_page(
    request: Request,
    runtime: RuntimeDep,
    session: ConsoleSession,
    customer_id: Annotated[int | None, Query(gt=0)] = None,
) -> HTMLResponse:
    context = goodwill_context(runtime, session, customer_id)
    return page(request, session, "console/goodwill.html", context, active="goodwill")


@router.post("/customers/{customer_id}/goodwill", dependencies=Csrf)
def grant(
    request: Request,
    runtime: RuntimeDep,
    session: ConsoleSession,
    customer_id: int,
    points: Annotated[str, Form(max_length=12)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    key: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    """Grant within the limit (booked now), or above it (a request for a manager).

    The form's one-time ``key`` makes a resubmitted form (a double tap, a retried POST)
    grant once.
    """
    try:
        amount = int(points.strip() or "0")
    except ValueError:
        amount = -1
    try:
        if amount < 0:
            raise InvalidInput([FieldProblem("points", "a whole number of points, e.g. 200")])
        result = goodwill.grant_goodwill(
            runtime.uow(),
            session.actor,
            customer_id,
            amount,
            reason,
            runtime.now(),
            key=key or None,
        )
    except RegularsError as error:
        if error.http_status == 404:
            raise
        context = goodwill_context(runtime, session, customer_id) | {
            "problems": _problems(error),
            "points": points,
            "reason": reason,
        }
        return page(
            request,
            session,
            "console/goodwill.html",
            context,
            active="goodwill",
            status_code=error.http_status,
        )
    done = "granted" if result["status"] == "granted" else "requested"
    return redirect(f"/console/customers/{customer_id}", done)


@router.post("/goodwill/requests/{goodwill_id}/{decision}", dependencies=Csrf)
def decide(
    request: Request,
    runtime: RuntimeDep,
    session: ConsoleSession,
    goodwill_id: int,
    decision: str,
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """A manager approves (the points are booked) or declines (saying why)."""
    if decision not in ("approve", "decline"):
        raise NotFound("no such action", field="decision")
    act = goodwill.approve_goodwill if decision == "approve" else goodwill.decline_goodwill
    try:
        act(runtime.uow(), session.actor, goodwill_id, runtime.now(), note=note.strip())
    except RegularsError as error:
        if error.http_status == 404:
            raise
        context = goodwill_context(runtime, session, None) | {"problems": _problems(error)}
        return page(
            request,
            session,
            "console/goodwill.html",
            context,
            active="goodwill",
            status_code=error.http_status,
        )
    return redirect("/console/goodwill", "approved" if decision == "approve" else "declined")
