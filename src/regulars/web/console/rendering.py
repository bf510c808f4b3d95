"""How console pages are rendered: one Jinja2 environment, the layout's context, and filters.

Autoescaping is on for every template (names, notes and reasons are typed by people, and a
customer called ``<script>`` must stay a name). Times are shown in the location's own time
zone, money in the location's currency with its minor units, never as floats.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from regulars.domain.money import money_text
from regulars.services.accounts import StaffSession

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

#: Messages a page may show after a redirect; only these keys are accepted from the URL,
#: so nobody can make the console display text of their choosing.
FLASHES = {
    "greeted": "Marked as greeted.",
    "note": "Note saved — the next person at the counter will see it.",
    "outcome": "Outcome recorded.",
    "consent": "Consent updated.",
    "contact": "Contact preferences saved.",
    "granted": "Goodwill granted.",
    "requested": "Above your limit: sent to a manager for approval.",
    "approved": "Request approved and granted.",
    "declined": "Request declined.",
    "enrolled": "Welcome aboard — customer enrolled.",
    "checked_in": "Checked in.",
}

FACES = {"unhappy": "☹", "neutral": "😐", "happy": "☺"}


def page(
    request: Request,
    session: StaffSession,
    template: str,
    context: dict[str, Any],
    *,
    active: str = "",
    status_code: int = 200,
    done: str | None = None,
) -> HTMLResponse:
    """Render a console page inside the layout, with the signed-in member of staff.

    ``done`` names a message from ``FLASHES`` (after a redirect it comes from the query).
    """
    flash_key = done or request.query_params.get("done", "")
    full = {
        "me": session,
        "csrf_token": session.csrf_token,
        "active": active,
        "flash": FLASHES.get(flash_key),
        "faces": FACES,
        **context,
    }
    response = templates.TemplateResponse(request, template, full, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect(path: str, done: str | None = None, **params: str | int) -> RedirectResponse:
    """Post/redirect/get: the browser lands on a page it can reload without posting twice."""
    query = {k: v for k, v in params.items() if v not in (None, "")}
    if done:
        query["done"] = done
    target = path + ("?" + urlencode(query) if query else "")
    return RedirectResponse(target, status_code=303)


def _zone(zone: str | None) -> ZoneInfo:
    """The location's zone (UTC when unknown or unset)."""
    try:
        return ZoneInfo(zone) if zone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(value: datetime | None, zone: str | None = None, fmt: str = "%d %b %Y %H:%M") -> str:
    """A moment in a location's wall-clock time (UTC when the zone is unknown)."""
    if value is None:
        return ""
    return value.astimezone(_zone(zone)).strftime(fmt)


def day(value: date | datetime | None, zone: str | None = None) -> str:
    """A calendar day; a moment is first put on the location's clock.

    Instants are stored in UTC, so a Denver visit at 21:00 on 30 April is 03:00 on 1 May in
    UTC: without the zone the page would date it a day late. Without a zone a moment keeps
    the clock it carries (the loyalty service hands back moments already on the program's).
    """
    if value is None:
        return ""
    if zone and isinstance(value, datetime):
        return local_time(value, zone, "%d %b %Y")
    return value.strftime("%d %b %Y")


def money(minor: int | None, currency: str = "EUR") -> str:
    """Integer minor units as the till prints them: 1234 → "12.34 EUR"."""
    if minor is None:
        return ""
    return money_text(minor, currency)


def count(value: int | None) -> str:
    return f"{int(value or 0):,}"


templates.env.filters["local_time"] = local_time
templates.env.filters["day"] = day
templates.env.filters["money"] = money
templates.env.filters["count"] = count
