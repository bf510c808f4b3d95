"""One shape for every error the web answers with: ``{"error": {"code", "message", "field"}}``.

Domain errors keep their own code and status; FastAPI's validation errors name the field
the caller got wrong; anything unexpected is logged in full and answered with a plain 500
that gives nothing away. Console pages (HTML) get the same message as a small page.
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from regulars.domain.errors import InvalidInput, RegularsError

log = logging.getLogger("regulars.web")

STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}


class NotAuthenticated(RegularsError):
    """No valid API key or session came with the request."""

    code = "unauthenticated"
    http_status = 401


class LoginRequired(Exception):
    """A console page was opened without a live session: send the browser to the login form."""

    def __init__(self, next_url: str, reason: str = "") -> None:
        super().__init__(reason or "please sign in")
        self.next_url = next_url
        self.reason = reason


class BodyTooLarge(StarletteHTTPException):
    """The request body is above the limit; raised while the body is still arriving."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def error_body(
    code: str, message: str, field: str | None = None, problems: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "field": field}
    if problems is not None:
        error["problems"] = problems
    return {"error": error}


def body_for(exc: RegularsError) -> dict[str, Any]:
    """The JSON body a domain error becomes (also stored for idempotent replays)."""
    problems = None
    if isinstance(exc, InvalidInput):
        problems = [{"field": p.field, "message": p.message} for p in exc.problems]
    return error_body(exc.code, exc.message, exc.field, problems)


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def _answer(
    request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    if _wants_html(request):
        error = body["error"]
        items = "".join(
            f"<li>{escape(p['field'] + ': ' if p['field'] else '')}{escape(p['message'])}</li>"
            for p in error.get("problems") or []
        )
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{status} · regulars</title></head><body><main>"
            f"<h1>{escape(str(error['message']))}</h1>"
            + (f"<ul>{items}</ul>" if items else "")
            + "<p><a href='/console/'>Back to the console</a></p></main></body></html>"
        )
        return HTMLResponse(page, status_code=status, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        where, rest = parts[0], parts[1:]
        if where in ("header", "cookie") and rest:
            return rest[0]
        if where == "body" and not rest:
            return "body"
        parts = rest
    return ".".join(parts)


async def _regulars_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegularsError)  # noqa: S101 - registered for this type only
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    return _answer(request, exc.http_status, body_for(exc), headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this type only
    problems: list[dict[str, str]] = []
    for item in exc.errors():
        loc = list(item.get("loc", ()))
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        if item.get("type") == "json_invalid":
            reason = item.get("ctx", {}).get("error", message)
            where = f" at character {loc[1]}" if len(loc) > 1 else ""
            problems.append({"field": "body", "message": f"malformed JSON{where}: {reason}"})
            continue
        # pydantic names the alternatives of a union ("dict[str,any]"); nobody typed those
        loc = [part for part in loc if not (isinstance(part, str) and "[" in part)]
        problem = {"field": _field_of(loc), "message": message}
        if problem not in problems:
            problems.append(problem)
    if not problems:
        problems = [{"field": "", "message": "invalid request"}]
    by_field: dict[str, list[str]] = {}
    for p in problems:
        by_field.setdefault(p["field"], []).append(p["message"])
    first = problems[0]
    message = "; ".join(
        f"{field}: {' or '.join(messages)}" if field else " or ".join(messages)
        for field, messages in list(by_field.items())[:5]
    )
    return _answer(request, 422, error_body("invalid", message, first["field"], problems))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for this type only
    status = exc.status_code
    code = STATUS_CODES.get(status, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if status == 404 and message == "Not Found":
        message = "no such page or resource"
    return _answer(request, status, error_body(code, message), dict(exc.headers or {}) or None)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)  # noqa: S101 - registered for this type only
    target = "/login?next=" + quote(exc.next_url, safe="/")
    if exc.reason:
        target += "&reason=" + quote(exc.reason)
    return RedirectResponse(target, status_code=303)


async def _out_of_range(request: Request, exc: Exception) -> Response:
    """A number or text too big for its column: the caller's input, so a 422, not a 500."""
    log.warning("value out of range on %s %s: %s", request.method, request.url.path, exc)
    return _answer(
        request,
        422,
        error_body("invalid", "a value in the request is too large or too long"),
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return _answer(
        request,
        500,
        error_body("internal", "something went wrong on our side; it has been logged"),
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RegularsError, _regulars_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _out_of_range)
    app.add_exception_handler(Exception, _unexpected)


__all__ = [
    "BodyTooLarge",
    "LoginRequired",
    "NotAuthenticated",
    "body_for",
    "error_body",
    "install_error_handlers",
]
