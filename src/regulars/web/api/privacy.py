"""A customer's data rights over the API: export everything as JSON, or erase for good."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path
from pydantic import BaseModel, ConfigDict

from regulars.services import privacy
from regulars.web.deps import ActorDep, RuntimeDep
from regulars.web.schemas import ErrorOut

router = APIRouter(
    prefix="/api/v1/customers",
    tags=["privacy"],
    responses={
        401: {"model": ErrorOut},
        403: {"model": ErrorOut},
        404: {"model": ErrorOut},
        409: {"model": ErrorOut},
        422: {"model": ErrorOut},
    },
)

CustomerId = Annotated[int, Path(gt=0, le=2**62)]


@router.get(
    "/{customer_id}/export",
    summary="Everything held about a customer, as JSON (managers)",
    response_model=dict[str, Any],
)
def export_customer(actor: ActorDep, runtime: RuntimeDep, customer_id: CustomerId) -> Any:
    return privacy.export_customer(runtime.uow(), actor, customer_id, now=runtime.now())


class EraseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirm: Literal[True]


class ErasedOut(BaseModel):
    id: int
    status: Literal["erased"]


@router.post(
    "/{customer_id}/erase",
    response_model=ErasedOut,
    summary="Erase a customer's personal data for good (managers); totals stay",
)
def erase_customer(
    actor: ActorDep,
    runtime: RuntimeDep,
    customer_id: CustomerId,
    body: Annotated[EraseIn, Body()],
) -> ErasedOut:
    privacy.erase_customer(
        runtime.uow(), actor, customer_id, now=runtime.now(), confirm=body.confirm
    )
    return ErasedOut(id=customer_id, status="erased")
