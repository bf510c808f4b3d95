"""Who am I, the staff list, and API keys for integrations (issued, listed, revoked)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request

from regulars.domain.errors import Conflict
from regulars.services import accounts
from regulars.web.deps import ActorDep, IdempotencyKey, RuntimeDep, idempotent
from regulars.web.errors import body_for
from regulars.web.schemas import ApiKeyCreatedOut, ApiKeyOut, ErrorOut, MeOut, StaffOut

router = APIRouter(prefix="/api/v1", tags=["access"])


@router.get("/me", response_model=MeOut, summary="Who is calling")
def me(actor: ActorDep) -> MeOut:
    return MeOut.of(actor)


@router.get("/staff", response_model=list[StaffOut], summary="Staff you may see")
def staff_list(actor: ActorDep, runtime: RuntimeDep) -> list[StaffOut]:
    return [StaffOut.of(s) for s in accounts.list_staff(runtime.uow(readonly=True), actor)]


@router.get("/api-keys", response_model=list[ApiKeyOut], summary="API keys (managers)")
def api_key_list(actor: ActorDep, runtime: RuntimeDep) -> list[ApiKeyOut]:
    return [ApiKeyOut.of(k) for k in accounts.list_api_keys(runtime.uow(readonly=True), actor)]


@router.post(
    "/api-keys",
    status_code=201,
    response_model=ApiKeyCreatedOut,
    summary="Issue an API key; the key is shown in this answer only",
    responses={
        409: {
            "model": ErrorOut,
            "description": "A repeated Idempotency-Key: the key exists, its secret is not shown "
            "again",
        }
    },
)
def api_key_create(
    request: Request,
    actor: ActorDep,
    runtime: RuntimeDep,
    body: Annotated[accounts.ApiKeyIn, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def produce() -> tuple[int, Any]:
        new = accounts.create_api_key(
            runtime.uow(), actor, body.model_dump(mode="json"), now=runtime.now()
        )
        return 201, ApiKeyCreatedOut(key=new.secret, **ApiKeyOut.of(new.summary).model_dump())

    return idempotent(
        request, actor, idempotency_key, body.model_dump(mode="json"), produce, replay=_shown_once
    )


def _shown_once(status: int, created: dict[str, Any]) -> tuple[int, Any]:
    """What a retry with the same Idempotency-Key gets: which key exists, never its secret."""
    error = Conflict(
        f"API key {created['id']} ({created['name']!r}, prefix {created['prefix']}) was "
        "created already; a key's secret is shown once: if it was lost, revoke this key "
        "and issue another",
        field="Idempotency-Key",
    )
    return error.http_status, body_for(error)


@router.delete("/api-keys/{key_id}", status_code=204, summary="Revoke an API key at once")
def api_key_revoke(
    actor: ActorDep, runtime: RuntimeDep, key_id: Annotated[int, Path(gt=0, le=2**31 - 1)]
) -> None:
    accounts.revoke_api_key(runtime.uow(), actor, key_id, now=runtime.now())
