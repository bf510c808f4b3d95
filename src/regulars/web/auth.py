"""The login form and logout: where a console session starts and ends.

The login form is protected by a double-submit CSRF token (a random cookie that the form
must echo), since there is no session yet; every later form uses the session's own token.
Wrong passwords are throttled per account and per address by the accounts service.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from regulars.domain.errors import Forbidden
from regulars.services import accounts
from regulars.web.deps import (
    SESSION_COOKIE,
    RuntimeDep,
    local_path,
    staff_session,
    verify_csrf,
)

LOGIN_CSRF_COOKIE = "regulars_login_csrf"
HOME = "/console/"

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)


def secure_cookies(request: Request) -> bool:
    """Cookies are Secure whenever the console is served over TLS."""
    return str(request.app.state.runtime.settings.base_url).startswith("https://")


def _login_page(
    request: Request,
    *,
    next_url: str,
    email: str = "",
    error: str = "",
    reason: str = "",
    status_code: int = 200,
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = templates.TemplateResponse(
        request,
        "auth/login.html",
        {
            "me": None,
            "csrf_token": token,
            "next_url": next_url,
            "email": email,
            "error": error,
            "reason": reason,
        },
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = HOME, reason: str = "") -> Response:
    if staff_session(request) is not None:
        return RedirectResponse(local_path(next), status_code=303)
    return _login_page(request, next_url=local_path(next), reason=reason)


@router.post("/login", response_class=HTMLResponse)
def log_in(
    request: Request,
    runtime: RuntimeDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = HOME,
) -> Response:
    target = local_path(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        return _login_page(
            request,
            next_url=target,
            email=email,
            error="The form expired; please try again.",
            status_code=403,
        )
    client = request.client.host if request.client else "unknown"
    try:
        new = accounts.log_in(runtime.uow(), email, password, ip=client, now=runtime.now())
    except Forbidden as error:
        return _login_page(
            request,
            next_url=target,
            email=email,
            error=error.message[:1].upper() + error.message[1:] + ".",
            status_code=error.http_status,
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def log_out(request: Request, runtime: RuntimeDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token and staff_session(request) is not None:
        await verify_csrf(request)
        accounts.log_out(runtime.uow(), token, now=runtime.now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


__all__ = ["router", "secure_cookies", "templates"]
