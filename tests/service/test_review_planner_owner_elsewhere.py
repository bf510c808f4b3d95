"""A call goes to someone who can open the customer's profile.

Vera moved from Porto to Lisbon: her home location is now the Lisbon dealership, but her
advisor is still Rui, who works only in Porto. Rui's queue shows only customers of his
locations, so a birthday call handed to him was a call nobody could see or make (and it
still used up one of his calls). It now goes to a colleague in Lisbon, with the reason.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from regulars.domain.access import Actor, Role
from regulars.services.planning import plan_day
from regulars.services.tasks import my_tasks
from regulars.store.uow import UnitOfWork
from tests import factories

FRIDAY = date(2026, 5, 1)
SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)


def test_a_call_for_a_customer_who_moved_goes_to_a_colleague_at_her_new_location(
    engine: Engine,
) -> None:
    factories.dealership(engine, SIX, "DEAL-POR")
    lisbon = factories.dealership(engine, SIX, "DEAL-LIS")
    rui = factories.rep(engine, SIX, "Rui", "DEAL-POR", daily_call_capacity=5)
    ana = factories.rep(engine, SIX, "Ana", "DEAL-LIS", daily_call_capacity=5)
    vera = factories.car_buyer(engine, SIX, rui, home="DEAL-LIS")

    report = plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)

    [line] = report.lines
    assert (line.touch, line.assignee) == ("call", "Ana")
    assert "advisor Rui does not work at the customer's location" in line.reasons
    in_lisbon = Actor(kind="staff", id=ana, role=Role.rep, locations=frozenset({lisbon}))
    assert [t["customer_id"] for t in my_tasks(UnitOfWork(engine), in_lisbon, today=FRIDAY)] == [
        vera
    ]


def test_a_card_for_a_customer_who_moved_is_left_to_her_new_locations_team(
    engine: Engine,
) -> None:
    factories.dealership(engine, SIX, "DEAL-POR")
    lisbon = factories.dealership(engine, SIX, "DEAL-LIS")
    rui = factories.rep(engine, SIX, "Rui", "DEAL-POR")
    ana = factories.rep(engine, SIX, "Ana", "DEAL-LIS")
    vera = factories.car_buyer(engine, SIX, rui, home="DEAL-LIS")

    report = plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)  # nobody takes calls: a card

    assert [line.touch for line in report.lines] == ["card"]
    in_lisbon = Actor(kind="staff", id=ana, role=Role.rep, locations=frozenset({lisbon}))
    [card] = my_tasks(UnitOfWork(engine), in_lisbon, today=FRIDAY)
    assert (card["kind"], card["customer_id"], card["assignee_staff_id"]) == ("card", vera, None)


def test_the_card_after_the_last_unanswered_call_is_left_to_her_new_locations_team(
    engine: Engine,
) -> None:
    factories.dealership(engine, SIX, "DEAL-POR")
    lisbon = factories.dealership(engine, SIX, "DEAL-LIS")
    rui = factories.rep(engine, SIX, "Rui", "DEAL-POR")
    ana = factories.rep(
        engine,
        SIX,
        "Ana",
        "DEAL-LIS",
        daily_call_capacity=5,
        working_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    )
    factories.car_buyer(engine, SIX, rui, home="DEAL-LIS")
    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    in_lisbon = Actor(kind="staff", id=ana, role=Role.rep, locations=frozenset({lisbon}))
    [call] = my_tasks(UnitOfWork(engine), in_lisbon, today=FRIDAY)

    task_id = factories.unanswered(engine, in_lisbon, int(call["id"]), 3, SIX)

    [card] = my_tasks(UnitOfWork(engine), in_lisbon, today=FRIDAY + timedelta(days=4))
    assert (card["kind"], card["id"], card["assignee_staff_id"]) == ("card", task_id, None)
