"""A brief shows staff only what they may see: not the belongings of a housemate who is a
customer of another location.

Ana is a customer of the Lisbon dealership; her husband Rui, in the same household, is a
customer of the London one, with his own car. A Lisbon rep opening Ana's birthday brief
sees Ana's household as Ana told it (names, relations), but Rui's car, its model and its
open recall are London's data, which a Lisbon rep may not read (docs/access.md). Someone
who may see both reads the car as Rui's, not as Ana's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, select, update

from regulars.domain.access import CLI, Actor, Role
from regulars.services import customers as customer_service
from regulars.services.briefs import brief_for_task
from regulars.services.ingest import ingest_events
from regulars.services.planning import plan_day
from regulars.store.planner_tables import staff_tasks
from regulars.store.tables import customers
from regulars.store.uow import UnitOfWork
from tests import factories

SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
CAR = [{"sku": "car", "category": "cars", "unit_price": 3_000_000}]


def test_a_lisbon_brief_leaves_out_the_car_of_a_london_housemate(engine: Engine) -> None:
    lisbon = factories.location(engine, SIX, code="DEAL-LIS", kind="dealership")
    factories.location(engine, SIX, code="DEAL-LON", kind="dealership", timezone="Europe/London")
    rep = factories.staff(
        engine, SIX, email="rep@example.com", locations=["DEAL-LIS"], daily_call_capacity=3
    )
    ana = factories.customer(
        engine,
        SIX,
        first_name="Ana",
        phone="+351910000001",
        birthday="1970-05-01",
        home_location="DEAL-LIS",
        owner_staff_id=rep,
    )
    rui = factories.customer(engine, SIX, first_name="Rui", home_location="DEAL-LON")
    car = factories.purchase("car-1", customer_id=ana, at="2025-01-10T10:00:00+00:00", lines=CAR)
    ingest_events(UnitOfWork(engine), [car], now=SIX)
    customer_service.add_asset(
        UnitOfWork(engine),
        CLI,
        rui,
        {"kind": "car", "label": "Rui's Range Rover", "model_code": "RR-SPORT-2022"},
        now=SIX,
    )
    customer_service.add_household_member(
        UnitOfWork(engine),
        CLI,
        ana,
        {"name": "Rui", "relation": "spouse", "customer_id": rui},
        now=SIX,
    )
    with engine.begin() as conn:  # one household, as a merge leaves a spouse's own profile
        household = conn.scalar(select(customers.c.household_id).where(customers.c.id == ana))
        conn.execute(update(customers).where(customers.c.id == rui).values(household_id=household))
    plan_day(UnitOfWork(engine), day=date(2026, 5, 1), now=SIX)
    with engine.connect() as conn:
        [task_id] = conn.scalars(select(staff_tasks.c.id)).all()
    lisbon_rep = Actor(kind="staff", id=rep, role=Role.rep, locations=frozenset({lisbon}))

    brief = brief_for_task(UnitOfWork(engine), lisbon_rep, task_id, now=SIX)

    assert [person["name"] for person in brief["household"]] == ["Rui"]
    assert brief["assets"] == []
    assert not any("Range Rover" in point for point in brief["talking_points"])
    everyone = brief_for_task(UnitOfWork(engine), CLI, task_id, now=SIX)
    assert [(a["label"], a["used_by"]) for a in everyone["assets"]] == [
        ("Rui's Range Rover", "Rui")
    ]
