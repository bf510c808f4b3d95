"""The manager's dashboard page: the day's plan per person, and the week in charts.

The numbers come from ``services.dashboard``; this page lays them out and draws them as
inline SVG (``web.charts``), each chart with its numbers also said in words.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from regulars.services.dashboard import Dashboard, manager_dashboard
from regulars.services.locations import list_locations
from regulars.web.charts import Series, bar_chart, line_chart, stacked_bar_chart
from regulars.web.console.rendering import page
from regulars.web.deps import ConsoleSession, RuntimeDep

router = APIRouter()


def charts(board: Dashboard) -> list[dict[str, Any]]:
    """The dashboard's charts, in reading order."""
    out: list[dict[str, Any]] = []
    if board.progress:
        out.append(
            {
                "title": "Today's plan per person",
                "svg": stacked_bar_chart(
                    "Today's plan per person: done and still open",
                    [p.name for p in board.progress],
                    [
                        Series("done", [p.done for p in board.progress]),
                        Series("open", [p.open for p in board.progress]),
                    ],
                ),
            }
        )
    out.append(
        {
            "title": "Touches by channel, last 7 days",
            "svg": bar_chart(
                "Touches by channel, last 7 days",
                list(board.touches),
                list(board.touches.values()),
            ),
        }
    )
    weeks = [w.strftime("%d %b") for w in board.weeks]
    out.append(
        {
            "title": "NPS by week",
            "svg": line_chart("NPS by week (−100 to 100)", weeks, [Series("NPS", board.nps)]),
            "note": "Weeks without survey answers are left as gaps.",
        }
    )
    out.append(
        {
            "title": "How callers felt, by week",
            "svg": line_chart(
                "Rated calls by week: share happy and unhappy (%)",
                weeks,
                [
                    Series("happy %", board.happy_percent),
                    Series("unhappy %", board.unhappy_percent),
                ],
            ),
        }
    )
    if board.census:
        names = [str(c["name"]) for c in board.census]
        out.append(
            {
                "title": "Members enrolled vs active",
                "svg": stacked_bar_chart(
                    "Members: active and inactive, per program",
                    names,
                    [
                        Series("active", [int(c["active"]) for c in board.census]),
                        Series(
                            "inactive",
                            [int(c["enrolled"]) - int(c["active"]) for c in board.census],
                        ),
                    ],
                ),
                "note": " · ".join(
                    f"{c['name']}: {c['enrolled']:,} enrolled, {c['active']:,} active in the "
                    f"last {c['active_days']} days ({c['active_share_percent']} %)"
                    for c in board.census
                ),
            }
        )
    return out


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    runtime: RuntimeDep,
    session: ConsoleSession,
    location: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """Managers and owners only (the service says so); others get a 403 page."""
    board = manager_dashboard(
        runtime.uow(readonly=True), session.actor, now=runtime.now(), location=location or None
    )
    places = list_locations(runtime.uow(readonly=True), session.actor)
    names = {p.code: p.name for p in places}
    context = {
        "today": board.day,
        "scope_name": names.get(location, location) if location else "your locations",
        "location": location,
        "locations": places,
        "progress": [
            {
                "name": p.name,
                "planned": p.planned,
                "done": p.done,
                "open": p.open,
                "percent": p.percent,
            }
            for p in board.progress
        ],
        "charts": charts(board),
        "suppressed": [
            {"customer_id": h.customer_id, "name": h.name, "moment": h.moment, "reason": h.reason}
            for h in board.held
        ],
        "suppressed_more": board.held_total - len(board.held),
    }
    return page(request, session, "console/dashboard.html", context, active="dashboard")
