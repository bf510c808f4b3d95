"""An owner's dashboard over several time zones counts each location's own day.

The dashboard took "today" from whichever location sorts first. For an owner with a Lisbon
café and a Denver dealership, at 21:00 in Denver it was already tomorrow in Lisbon: the
Denver rep's birthday card, written at 16:00, vanished from "done", and the automations
Denver held back today were no longer listed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from regulars.bootstrap import Runtime
from regulars.domain.access import CLI
from regulars.services import accounts, tasks
from regulars.services import customers as customer_service
from regulars.services.dashboard import manager_dashboard
from regulars.services.outcomes import record_outcome
from regulars.services.planning import plan_day

MORNING_IN_DENVER = datetime(2026, 4, 30, 14, 0, tzinfo=UTC)  # 08:00 in Denver
AFTERNOON_IN_DENVER = datetime(2026, 4, 30, 22, 0, tzinfo=UTC)  # 16:00; 23:00 in Lisbon
EVENING_IN_DENVER = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)  # 21:00; 04:00 on 1 May in Lisbon


def lisbon_and_denver(runtime: Runtime) -> int:
    """A café in Lisbon (sorts first), a Denver dealership, and its rep's birthday card to write."""
    now = MORNING_IN_DENVER
    for code, name, zone, kind in (
        ("CAFE-LIS", "A Café in Lisbon", "Europe/Lisbon", "cafe"),
        ("VW-DEN", "VW Denver", "America/Denver", "dealership"),
    ):
        customer_service.create_location(
            runtime.uow(),
            CLI,
            {"code": code, "name": name, "timezone": zone, "kind": kind},
            now=now,
        )
    dana = accounts.add_staff(
        runtime.uow(),
        CLI,
        {
            "email": "dana@example.com",
            "name": "Dana",
            "role": "rep",
            "locations": ["VW-DEN"],
            "daily_call_capacity": 6,
            "working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        },
        password="correct horse battery",
        now=now,
    )
    customer_service.create_customer(
        runtime.uow(),
        CLI,
        {
            "first_name": "Molly",
            "phone": "+13035550142",
            "birthday": "1970-04-30",
            "home_location": "VW-DEN",
            "owner_staff_id": dana,
        },
        now=now,
    )
    customer_service.create_customer(
        runtime.uow(),
        CLI,
        {
            "first_name": "Walt",
            "email": "walt@example.com",
            "birthday": "1960-04-30",
            "home_location": "VW-DEN",
        },
        now=now,
    )
    plan_day(runtime.uow(), day=date(2026, 4, 30), location="VW-DEN", now=now)
    return dana


def test_at_nine_in_the_evening_in_denver_the_owner_still_sees_denvers_day(
    runtime: Runtime,
) -> None:
    dana = lisbon_and_denver(runtime)
    todays = tasks.my_tasks(
        runtime.uow(), CLI, today=date(2026, 4, 30), staff_id=dana, status="open"
    )
    [card] = [t for t in todays if t["customer"].startswith("Molly")]
    record_outcome(runtime.uow(), CLI, card["id"], {"outcome": "done"}, now=AFTERNOON_IN_DENVER)

    board = manager_dashboard(runtime.uow(readonly=True), CLI, now=EVENING_IN_DENVER)

    [dana_today] = [p for p in board.progress if p.name == "Dana"]
    assert (dana_today.planned, dana_today.done) == (1, 1)
    assert "Walt" in [h.name for h in board.held]  # no consent for e-mail, held back today


def test_narrowed_to_denver_the_day_is_denvers(runtime: Runtime) -> None:
    lisbon_and_denver(runtime)
    board = manager_dashboard(
        runtime.uow(readonly=True), CLI, now=EVENING_IN_DENVER, location="VW-DEN"
    )
    assert board.day == date(2026, 4, 30)
    assert "Walt" in [h.name for h in board.held]
