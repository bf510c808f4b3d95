"""``/u/{token}``: the unsubscribe link in every message.

GET shows a small confirmation page and writes nothing (mail scanners follow links). POST
unsubscribes: either the page's button, or a mail program's RFC 8058 one-click request
(body ``List-Unsubscribe=One-Click``), which carries no cookie and no CSRF token; the
signed token itself is the proof. Both answer with the "you are unsubscribed" page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from regulars.domain.errors import NotFound
from regulars.services.unsubscribe import describe_unsubscribe, unsubscribe
from regulars.web.deps import RuntimeDep

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))
router = APIRouter(include_in_schema=False)

PAGE = "public/unsubscribe.html"


def _invalid(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, PAGE, {"me": None, "invalid": True}, status_code=404)


@router.get("/u/{token}", response_class=HTMLResponse)
def confirm_unsubscribe(request: Request, token: str, rt: RuntimeDep) -> HTMLResponse:
    """The confirmation page: whose link it is and what it stops."""
    try:
        sub = describe_unsubscribe(rt.uow(readonly=True), token, secret=rt.settings.secret_key)
    except NotFound:
        return _invalid(request)
    context = {"me": None, "sub": sub, "token": token, "done": not sub.subscribed}
    return templates.TemplateResponse(request, PAGE, context)


@router.post("/u/{token}", response_class=HTMLResponse)
def do_unsubscribe(
    request: Request,
    token: str,
    rt: RuntimeDep,
    one_click: Annotated[str | None, Form(alias="List-Unsubscribe")] = None,
) -> HTMLResponse:
    """Withdraw consent for the link's channel (one click from a mail program, or the page)."""
    how = "one-click unsubscribe" if one_click == "One-Click" else "unsubscribe page"
    try:
        sub = unsubscribe(rt.uow(), token, secret=rt.settings.secret_key, now=rt.now(), how=how)
    except NotFound:
        return _invalid(request)
    return templates.TemplateResponse(request, PAGE, {"me": None, "sub": sub, "done": True})


__all__ = ["router"]
