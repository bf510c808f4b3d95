"""The staff console: server-rendered pages for the counter, the phone and the back office.

Each page lives in its own module with its own router; this package collects them under
``/console`` as ``router``. Pages are thin: they parse the form, call a service (which does
the access checks), and render or redirect.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from regulars.web.console import checkin, customer, dashboard, goodwill, queue, static

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    """The counter's start page is the check-in box."""
    return RedirectResponse("/console/check-in", status_code=303)


for module in (static, checkin, queue, customer, goodwill, dashboard):
    router.include_router(module.router)

__all__ = ["router"]
