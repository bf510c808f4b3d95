"""A member's loyalty status in the words the counter uses: tier, points, what is next.

The numbers come from the loyalty service's ``member_status``; this only chooses the lines
worth showing on a busy screen.
"""

from __future__ import annotations

from typing import Any

from regulars.bootstrap import Runtime
from regulars.domain.access import Actor
from regulars.services import loyalty
from regulars.web.console.rendering import day, money


def statuses(runtime: Runtime, actor: Actor, customer_id: int) -> list[dict[str, Any]]:
    return loyalty.member_status(runtime.uow(readonly=True), actor, customer_id, now=runtime.now())


def status_lines(runtime: Runtime, actor: Actor, customer_id: int) -> list[tuple[str, str]]:
    """(label, value) pairs for every program the customer belongs to."""
    lines: list[tuple[str, str]] = []
    for status in statuses(runtime, actor, customer_id):
        name = str(status.get("program_name") or status.get("program"))
        tier = status.get("tier") or {}
        lines.append(
            (name, f"{tier.get('name', '—')}" + ("" if status.get("active") else " (inactive)"))
        )
        points = f"{int(status.get('available_points', 0)):,} points"
        value = status.get("available_value")
        if value:
            points += f" (worth {money(int(value), str(status.get('currency') or 'EUR'))})"
        lines.append(("Points", points))
        if status.get("pending_points"):
            until = status.get("pending_until")
            lines.append(
                (
                    "Pending",
                    f"{int(status['pending_points']):,} points"
                    + (f", available from {day(until)}" if until else ""),
                )
            )
        if status.get("progress"):
            lines.append(("Next tier", str(status["progress"])))
        for expiring in (status.get("expiring") or [])[:1]:
            lines.append(
                ("Expiring", f"{int(expiring['points']):,} points on {day(expiring['on'])}")
            )
        benefits = tier.get("benefits") or []
        if benefits:
            lines.append(("Benefits", ", ".join(str(b) for b in benefits)))
    return lines


def tier_name(runtime: Runtime, actor: Actor, customer_id: int) -> str:
    """The highest-standing tier name to print on the member card ("" when not a member)."""
    for status in statuses(runtime, actor, customer_id):
        tier = status.get("tier") or {}
        if tier.get("name"):
            return str(tier["name"])
    return ""
