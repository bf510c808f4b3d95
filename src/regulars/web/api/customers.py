"""Customers over the API: enrol, read the 360° view, change, search, the timeline, merge.

Every route calls the same service function as the console and the CLI; the services check
access, so a customer of another location answers 404 here exactly as an unknown id does.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from regulars.domain.customers import (
    AssetIn,
    ConsentIn,
    CustomerIn,
    CustomerPatch,
    HouseholdMemberIn,
    PreferenceIn,
)
from regulars.services import customers as customer_service
from regulars.services import queries
from regulars.services.queries import Customer360, CustomerSummary, TimelineEntry
from regulars.web.deps import ActorDep, IdempotencyKey, RuntimeDep, idempotent
from regulars.web.schemas import CreatedOut, ErrorOut, Page

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No valid API key or session."},
    403: {"model": ErrorOut, "description": "Your role or key may not do this."},
    404: {"model": ErrorOut, "description": "No such customer (or not at your locations)."},
    422: {"model": ErrorOut, "description": "Bad input; `field` names what is wrong."},
}

router = APIRouter(prefix="/api/v1/customers", tags=["customers"], responses=ERRORS)

CustomerId = Annotated[int, Path(gt=0, le=2**62, description="The customer's id.")]


def _view(runtime: Any, actor: Any, customer_id: int) -> Customer360:
    return queries.customer_360(runtime.uow(readonly=True), actor, customer_id)


@router.post("", status_code=201, response_model=Customer360, summary="Enrol a customer")
def create_customer(
    request: Request,
    actor: ActorDep,
    runtime: RuntimeDep,
    body: Annotated[CustomerIn, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def produce() -> tuple[int, Any]:
        customer_id = customer_service.create_customer(
            runtime.uow(), actor, body, now=runtime.now()
        )
        return 201, _view(runtime, actor, customer_id)

    return idempotent(request, actor, idempotency_key, body.model_dump(mode="json"), produce)


@router.get("", response_model=Page[CustomerSummary], summary="Search customers")
def search_customers(
    actor: ActorDep,
    runtime: RuntimeDep,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Name prefix, e-mail, phone or card number."),
    ] = None,
    name: Annotated[str | None, Query(max_length=200)] = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    card_number: Annotated[str | None, Query(max_length=60)] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 20,
    cursor: Annotated[
        str | None,
        Query(
            max_length=2000,
            description="The `next_cursor` of the previous page, as it was given (opaque).",
        ),
    ] = None,
) -> Page[CustomerSummary]:
    found = queries.search_customers(
        runtime.uow(readonly=True),
        actor,
        q,
        name=name,
        email=email,
        phone=phone,
        card_number=card_number,
        limit=limit + 1,
        cursor=cursor,
    )
    more = len(found) > limit
    return Page[CustomerSummary](
        items=found[:limit],
        next_cursor=queries.search_cursor(found[limit - 1]) if more else None,
    )


@router.get("/{customer_id}", response_model=Customer360, summary="A customer's 360° view")
def get_customer(actor: ActorDep, runtime: RuntimeDep, customer_id: CustomerId) -> Customer360:
    return _view(runtime, actor, customer_id)


@router.patch("/{customer_id}", response_model=Customer360, summary="Change a customer")
def update_customer(
    actor: ActorDep,
    runtime: RuntimeDep,
    customer_id: CustomerId,
    body: Annotated[CustomerPatch, Body()],
) -> Customer360:
    customer_service.update_customer(runtime.uow(), actor, customer_id, body, now=runtime.now())
    return _view(runtime, actor, customer_id)


@router.get(
    "/{customer_id}/timeline",
    response_model=Page[TimelineEntry],
    summary="The customer's timeline, newest first",
)
def customer_timeline(
    actor: ActorDep,
    runtime: RuntimeDep,
    customer_id: CustomerId,
    type: Annotated[
        list[str] | None, Query(description="Only these event types (repeatable).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[TimelineEntry]:
    page = queries.timeline(
        runtime.uow(readonly=True),
        actor,
        customer_id,
        types=type or (),
        limit=limit,
        cursor=cursor,
    )
    return Page[TimelineEntry](
        items=list(page.entries),
        next_cursor=page.next_cursor,
    )


@router.post(
    "/{customer_id}/household-members",
    status_code=201,
    response_model=CreatedOut,
    summary="Add a household member",
)
def add_household_member(
    request: Request,
    actor: ActorDep,
    runtime: RuntimeDep,
    customer_id: CustomerId,
    body: Annotated[HouseholdMemberIn, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def produce() -> tuple[int, Any]:
        new_id = customer_service.add_household_member(
            runtime.uow(), actor, customer_id, body, now=runtime.now()
        )
        return 201, CreatedOut(id=new_id)

    return idempotent(request, actor, idempotency_key, body.model_dump(mode="json"), produce)


@router.post(
    "/{customer_id}/assets",
    status_code=201,
    response_model=CreatedOut,
    summary="Record something the household owns",
)
def add_asset(
    request: Request,
    actor: ActorDep,
    runtime: RuntimeDep,
    customer_id: CustomerId,
    body: Annotated[AssetIn, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def produce() -> tuple[int, Any]:
        new_id = customer_service.add_asset(
            runtime.uow(), actor, customer_id, body, now=runtime.now()
        )
        return 201, CreatedOut(id=new_id)

    return idempotent(request, actor, idempotency_key, body.model_dump(mode="json"), produce)


@router.put(
    "/{customer_id}/preferences",
    response_model=Customer360,
    summary="Save a preference (replaces the one with the same label)",
)
def set_preference(
    actor: ActorDep,
    runtime: RuntimeDep,
    customer_id: CustomerId,
    body: Annotated[PreferenceIn, Body()],
) -> Customer360:
    customer_service.set_preference(runtime.uow(), actor, customer_id, body, now=runtime.now())
    return _view(runtime, actor, customer_id)


@router.put(
    "/{customer_id}/consents",
    response_model=Customer360,
    summary="Record consent given or withdrawn on one channel",
)
def set_consent(
    actor: ActorDep,
    runtime: RuntimeDep,
    customer_id: CustomerId,
    body: Annotated[ConsentIn, Body()],
) -> Customer360:
    customer_service.set_consent(runtime.uow(), actor, customer_id, body, now=runtime.now())
    return _view(runtime, actor, customer_id)


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duplicate_id: Annotated[int, Field(gt=0, le=2**62)]


@router.post(
    "/{customer_id}/merge",
    response_model=Customer360,
    summary="Fold a duplicate profile into this one (both timelines become one)",
)
def merge_customers(
    actor: ActorDep,
    runtime: RuntimeDep,
    customer_id: CustomerId,
    body: Annotated[MergeIn, Body()],
) -> Customer360:
    customer_service.merge_customers(
        runtime.uow(), actor, customer_id, body.duplicate_id, now=runtime.now()
    )
    return _view(runtime, actor, customer_id)
