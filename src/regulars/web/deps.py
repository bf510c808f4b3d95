"""What every route asks for: the runtime, the current time, who is calling, CSRF, idempotency.

API routes depend on ``current_actor`` (an API key as ``Authorization: Bearer …``, or the
console's session cookie); console pages depend on ``console_staff`` (a session, or a
redirect to the login form). Forms are protected by ``verify_csrf``; POSTs that create value
go through ``idempotent`` so that a retried request gets the first answer.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from regulars.bootstrap import Runtime
from regulars.domain.access import Actor
from regulars.domain.errors import Forbidden, RegularsError
from regulars.services import accounts, idempotency
from regulars.services.locations import list_locations
from regulars.web.errors import LoginRequired, NotAuthenticated, body_for

SESSION_COOKIE = "regulars_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `regulars apikey create`, sent as `Authorization: Bearer rk_…`.",
)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_now(request: Request) -> datetime:
    """The current moment from the runtime's clock (fixed in tests and replays)."""
    return get_runtime(request).now()


def local_today(runtime: Runtime, actor: Actor, location: str | None = None) -> date:
    """Today where the caller works (``location``, else their first location), not in UTC.

    A task due today in Denver must stay in the queue all evening, though UTC has moved on
    to tomorrow at 18:00 there; the console and the API count the day the same way.
    """
    places = list_locations(runtime.uow(readonly=True), actor)
    named = [place for place in places if place.code == location]
    chosen = named or places
    zone = ZoneInfo(chosen[0].timezone) if chosen else ZoneInfo("UTC")
    return runtime.now().astimezone(zone).date()


def staff_session(request: Request) -> accounts.StaffSession | None:
    """The signed-in member of staff behind the session cookie, looked up once per request."""
    if hasattr(request.state, "staff_session"):
        cached: accounts.StaffSession | None = request.state.staff_session
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    session = None
    if token:
        rt = get_runtime(request)
        session = accounts.session_for_token(rt.uow(), token, now=rt.now())
    request.state.staff_session = session
    return session


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    """Who is calling the API: an API key, or a signed-in member of staff; else 401.

    A browser session on an unsafe method must also send the CSRF token as ``X-CSRF-Token``,
    so that another site cannot make a signed-in browser write through the API.
    """
    if credentials is not None:
        rt = get_runtime(request)
        actor = accounts.actor_for_api_key(rt.uow(), credentials.credentials, now=rt.now())
        if actor is None:
            raise NotAuthenticated("this API key is unknown or was revoked")
        request.state.actor = actor
        return actor
    session = staff_session(request)
    if session is None:
        raise NotAuthenticated(
            "sign in first: send an API key as 'Authorization: Bearer …' or a session cookie"
        )
    if request.method not in SAFE_METHODS:
        _check_csrf(session, request.headers.get(CSRF_HEADER))
    request.state.actor = session.actor
    return session.actor


def console_session(request: Request) -> accounts.StaffSession:
    """The signed-in member of staff for a console page, or a redirect to the login form."""
    session = staff_session(request)
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        reason = "expired" if request.cookies.get(SESSION_COOKIE) else ""
        raise LoginRequired(target, reason)
    request.state.actor = session.actor
    return session


def console_staff(
    session: Annotated[accounts.StaffSession, Depends(console_session)],
) -> Actor:
    """The actor behind a console page (see ``console_session`` for name and CSRF token)."""
    return session.actor


async def verify_csrf(request: Request) -> None:
    """Refuse a form post whose CSRF token does not match the session's (403)."""
    session = staff_session(request)
    if session is None:
        target = request.headers.get("referer") or "/console/"
        raise LoginRequired(local_path(target), "expired")
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
    _check_csrf(session, token)


def _check_csrf(session: accounts.StaffSession, token: str | None) -> None:
    if not token or not hmac.compare_digest(token.encode(), session.csrf_token.encode()):
        raise Forbidden(
            "the form's security token is missing or stale; reload the page and try again",
            field=CSRF_FIELD,
        )


def local_path(url: str) -> str:
    """Only ever redirect within this site."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//"):
        return "/console/"
    return path + (f"?{parts.query}" if parts.query else "")


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Any unique string; a retry with the same key and body gets the first "
        "answer instead of creating a twin.",
    ),
]


def idempotent(
    request: Request,
    actor: Actor,
    key: str | None,
    body: Any,
    produce: Callable[[], tuple[int, Any]],
    *,
    replay: Callable[[int, Any], tuple[int, Any]] | None = None,
) -> JSONResponse:
    """Run ``produce`` once per (caller, route, key); repeats get the stored answer.

    ``produce`` returns (status code, JSON-able body). A domain error is stored as the answer
    too (the same retry would fail the same way); an unexpected fault frees the key. When the
    answer holds a secret that must never be stored, ``replay`` turns it into what is kept
    and what repeats get instead.
    """
    if key is None:
        status, payload = produce()
        return JSONResponse(jsonable_encoder(payload), status_code=status)
    rt = get_runtime(request)
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    scope = (
        f"{actor.label}:" + hashlib.sha256(f"{request.method} {template}".encode()).hexdigest()[:24]
    )
    digest = idempotency.request_hash({"body": jsonable_encoder(body), "path": request.url.path})
    stored = idempotency.claim(rt.uow(), key, scope, digest, now=rt.now())
    if stored is not None:
        return JSONResponse(
            stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
        )
    try:
        status, payload = produce()
    except RegularsError as error:
        idempotency.remember(
            rt.uow(), key, scope, idempotency.StoredAnswer(error.http_status, body_for(error))
        )
        raise
    except BaseException:
        idempotency.release(rt.uow(), key, scope)
        raise
    encoded = jsonable_encoder(payload)
    kept = (status, encoded) if replay is None else replay(status, encoded)
    idempotency.remember(rt.uow(), key, scope, idempotency.StoredAnswer(*kept))
    return JSONResponse(encoded, status_code=status)


async def _runtime_dependency(request: Request) -> Runtime:
    """``get_runtime`` as a dependency that runs on the event loop.

    FastAPI runs a plain ``def`` dependency in its thread pool; these two only read
    attributes, and the thread hops cost more than the work at a busy counter.
    """
    return get_runtime(request)


async def _now_dependency(request: Request) -> datetime:
    return get_now(request)


RuntimeDep = Annotated[Runtime, Depends(_runtime_dependency)]
NowDep = Annotated[datetime, Depends(_now_dependency)]
ActorDep = Annotated[Actor, Depends(current_actor)]
ConsoleStaff = Annotated[Actor, Depends(console_staff)]
ConsoleSession = Annotated[accounts.StaffSession, Depends(console_session)]

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "ActorDep",
    "ConsoleSession",
    "ConsoleStaff",
    "IdempotencyKey",
    "NowDep",
    "RuntimeDep",
    "console_session",
    "console_staff",
    "current_actor",
    "get_now",
    "get_runtime",
    "idempotent",
    "local_today",
    "staff_session",
    "verify_csrf",
]
