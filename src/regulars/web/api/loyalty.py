"""The loyalty program over the API: a member's status, the rewards, redemption, goodwill.

Redemption and goodwill take an ``Idempotency-Key``: a retried request gets the first
answer; the same key with a different body is a 409 and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from regulars.bootstrap import Runtime
from regulars.domain.access import Actor
from regulars.services import goodwill, loyalty, redeem
from regulars.web.deps import ActorDep, IdempotencyKey, RuntimeDep, idempotent
from regulars.web.schemas import ErrorOut

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No valid API key or session."},
    403: {"model": ErrorOut, "description": "Your role or key may not do this."},
    404: {"model": ErrorOut, "description": "No such customer (or not at your locations)."},
    409: {"model": ErrorOut, "description": "Already decided, or a reused Idempotency-Key."},
    422: {"model": ErrorOut, "description": "Bad input; `field` names what is wrong."},
}

router = APIRouter(prefix="/api/v1", tags=["loyalty"], responses=ERRORS)

CustomerId = Annotated[int, Path(gt=0, le=2**62, description="The customer's id.")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TierOut(BaseModel):
    code: str
    name: str
    benefits: list[str]
    since: datetime | None = None
    accrual_bonus_percent: int


class NextTierOut(BaseModel):
    code: str
    name: str
    threshold: int
    needed: int = Field(description="More spend (minor units) or points to get there.")
    percent: int
    benefits: list[str]
    accrual_bonus_percent: int


class ExpiringOut(BaseModel):
    points: int
    on: datetime
    unless: str | None = None


class LoyaltyStatusOut(BaseModel):
    """What a member should never have to guess, for one program."""

    program: str
    program_name: str
    enrolled_at: datetime
    active: bool
    available_points: int
    available_value: int = Field(description="What the available points are worth, minor units.")
    pending_points: int
    pending_until: datetime | None
    currency: str
    tier: TierOut
    qualifying: dict[str, Any]
    next_tier: NextTierOut | None
    progress: str = Field(description="Progress to the next tier, in words.")
    expiring: list[ExpiringOut]
    double_points_day: date | None


class RewardOut(BaseModel):
    program: str
    code: str
    name: str
    points: int
    value: int
    currency: str
    min_tier: str | None
    stock_left: int | None
    per_member_limit: int | None
    description: str


class RedemptionIn(_In):
    reward: Annotated[str, Field(min_length=1, max_length=60)]
    program: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    #: The location code where the reward is handed over (kept on the redemption).
    location: Annotated[str, Field(min_length=1, max_length=40)] | None = None


class RedemptionOut(BaseModel):
    redemption_id: int
    program: str
    reward: str
    reward_name: str
    points: int
    value: int
    currency: str
    available_points: int
    location: str | None = None


class GoodwillIn(_In):
    points: Annotated[int, Field(gt=0, le=10_000_000)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    program: Annotated[str, Field(min_length=1, max_length=60)] | None = None


class GoodwillOut(BaseModel):
    goodwill_id: int
    status: str = Field(description="granted, requested, approved or declined")
    points: int
    program: str
    limit: int | None = Field(default=None, description="The caller's limit; null: none.")


class EnrolIn(_In):
    program: Annotated[str, Field(min_length=1, max_length=60)]


class DoubleDayIn(_In):
    program: Annotated[str, Field(min_length=1, max_length=60)]
    day: date


class CensusOut(BaseModel):
    """Enrolled versus active members of a program, its tier mix and what it owes."""

    program: str
    name: str
    enrolled: int
    active: int
    active_days: int
    active_share_percent: int
    tiers: dict[str, int]
    available_points: int
    pending_points: int
    liability: int = Field(description="Money value of all points not yet spent, minor units.")
    currency: str


class DecisionIn(_In):
    note: Annotated[str, Field(max_length=500)] = ""


@router.get(
    "/customers/{customer_id}/loyalty",
    response_model=list[LoyaltyStatusOut],
    summary="A member's points, tier, progress and expiring points, per program",
)
def loyalty_status(customer_id: CustomerId, actor: ActorDep, runtime: RuntimeDep) -> Any:
    return loyalty.member_status(runtime.uow(readonly=True), actor, customer_id, now=runtime.now())


@router.post(
    "/customers/{customer_id}/loyalty/enrolment",
    summary="Opt a customer in to a program",
    responses={200: {"description": "Already a member."}, 201: {"description": "Enrolled."}},
)
def enrol(
    customer_id: CustomerId,
    actor: ActorDep,
    runtime: RuntimeDep,
    body: Annotated[EnrolIn, Body()],
) -> Any:
    fresh = loyalty.enrol(runtime.uow(), actor, customer_id, body.program, now=runtime.now())
    return JSONResponse(
        {"program": body.program, "enrolled": True}, status_code=201 if fresh else 200
    )


@router.put(
    "/customers/{customer_id}/loyalty/double-points-day",
    status_code=204,
    summary="The member picks their double-points day (once per period)",
)
def double_points_day(
    customer_id: CustomerId,
    actor: ActorDep,
    runtime: RuntimeDep,
    body: Annotated[DoubleDayIn, Body()],
) -> Response:
    loyalty.choose_double_points_day(
        runtime.uow(), actor, customer_id, body.program, body.day, now=runtime.now()
    )
    return Response(status_code=204)


@router.get(
    "/loyalty/census",
    response_model=list[CensusOut],
    summary="Enrolled vs active members, tier mix and liability per program",
)
def census(actor: ActorDep, runtime: RuntimeDep) -> Any:
    return loyalty.census(runtime.uow(readonly=True), actor, now=runtime.now())


@router.get("/rewards", response_model=list[RewardOut], summary="The rewards catalogue")
def rewards(
    runtime: RuntimeDep,
    actor: ActorDep,
    program: Annotated[str | None, Query(max_length=60)] = None,
) -> Any:
    del actor  # signed-in callers only; the catalogue is the same for all of them
    return loyalty.rewards_catalogue(runtime.uow(readonly=True), program)


@router.post(
    "/customers/{customer_id}/redemptions",
    status_code=201,
    response_model=RedemptionOut,
    summary="Spend a member's points on a reward",
)
def create_redemption(
    request: Request,
    customer_id: CustomerId,
    actor: ActorDep,
    runtime: RuntimeDep,
    body: Annotated[RedemptionIn, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def produce() -> tuple[int, Any]:
        return 201, redeem.redeem(
            runtime.uow(),
            actor,
            customer_id,
            body.reward,
            now=runtime.now(),
            program=body.program,
            location=body.location,
        )

    return idempotent(request, actor, idempotency_key, body.model_dump(mode="json"), produce)


@router.post(
    "/customers/{customer_id}/goodwill",
    status_code=201,
    response_model=GoodwillOut,
    summary="Grant goodwill points (above your limit it becomes a request)",
)
def grant_goodwill(
    request: Request,
    customer_id: CustomerId,
    actor: ActorDep,
    runtime: RuntimeDep,
    body: Annotated[GoodwillIn, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def produce() -> tuple[int, Any]:
        return 201, goodwill.grant_goodwill(
            runtime.uow(),
            actor,
            customer_id,
            body.points,
            body.reason,
            runtime.now(),
            program=body.program,
        )

    return idempotent(request, actor, idempotency_key, body.model_dump(mode="json"), produce)


GoodwillId = Annotated[int, Path(gt=0, le=2**62)]


@router.post(
    "/goodwill/{goodwill_id}/approve",
    response_model=GoodwillOut,
    summary="Approve a goodwill request (managers)",
)
def approve(
    request: Request,
    goodwill_id: GoodwillId,
    actor: ActorDep,
    runtime: RuntimeDep,
    body: Annotated[DecisionIn, Body()] = DecisionIn(),  # noqa: B008 - an immutable default
    idempotency_key: IdempotencyKey = None,
) -> Any:
    return _decide(
        goodwill.approve_goodwill, request, goodwill_id, actor, runtime, body, idempotency_key
    )


@router.post(
    "/goodwill/{goodwill_id}/decline",
    response_model=GoodwillOut,
    summary="Decline a goodwill request (managers)",
)
def decline(
    request: Request,
    goodwill_id: GoodwillId,
    actor: ActorDep,
    runtime: RuntimeDep,
    body: Annotated[DecisionIn, Body()] = DecisionIn(),  # noqa: B008 - an immutable default
    idempotency_key: IdempotencyKey = None,
) -> Any:
    return _decide(
        goodwill.decline_goodwill, request, goodwill_id, actor, runtime, body, idempotency_key
    )


def _decide(
    decision: Callable[..., Any],
    request: Request,
    goodwill_id: int,
    actor: Actor,
    runtime: Runtime,
    body: DecisionIn,
    idempotency_key: str | None,
) -> Any:
    """Approve and decline answer alike: once per idempotency key, the request as it now stands."""

    def produce() -> tuple[int, Any]:
        return 200, decision(runtime.uow(), actor, goodwill_id, runtime.now(), note=body.note)

    return idempotent(request, actor, idempotency_key, body.model_dump(mode="json"), produce)


@router.get(
    "/goodwill/requests",
    response_model=list[dict[str, Any]],
    summary="Goodwill requests waiting for a manager",
)
def goodwill_requests(actor: ActorDep, runtime: RuntimeDep) -> Any:
    return goodwill.pending_requests(runtime.uow(readonly=True), actor)


__all__ = ["router"]
