"""Two profiles of one man, both planned a birthday call: after the merge, one call.

Vasco was entered twice (the showroom and the workshop), with the same birthday and the
same advisor. The morning plan gave each profile its birthday call; the manager merges the
duplicate at 09:00. The kept profile's decision stands, and the duplicate's call must not
follow it into the rep's queue as a second birthday call to the same man.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from regulars.domain.access import CLI
from regulars.services import customers as customer_service
from regulars.services.ingest import ingest_events
from regulars.services.planning import plan_day
from regulars.services.tasks import my_tasks
from regulars.store.uow import UnitOfWork
from tests import factories

FRIDAY = date(2026, 5, 1)
SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
CAR = [{"sku": "car", "category": "cars", "unit_price": 3_000_000}]


def _profile(engine: Engine, n: int, owner: int) -> int:
    cid = factories.customer(
        engine,
        SIX,
        first_name="Vasco",
        phone=f"+35191000000{n}",
        birthday="1970-05-01",
        home_location="DEAL-POR",
        owner_staff_id=owner,
    )
    car = factories.purchase(f"car-{n}", customer_id=cid, at="2025-01-10T10:00:00+00:00", lines=CAR)
    ingest_events(UnitOfWork(engine), [car], now=SIX)
    return cid


def test_merging_two_planned_profiles_leaves_one_birthday_call(engine: Engine) -> None:
    factories.location(engine, SIX, code="DEAL-POR", kind="dealership")
    rui = factories.staff(
        engine, SIX, email="rui@example.com", locations=["DEAL-POR"], daily_call_capacity=5
    )
    keep, duplicate = _profile(engine, 1, rui), _profile(engine, 2, rui)
    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    assert len(my_tasks(UnitOfWork(engine), CLI, today=FRIDAY, staff_id=rui)) == 2

    customer_service.merge_customers(
        UnitOfWork(engine), CLI, keep, duplicate, now=SIX + timedelta(hours=4)
    )

    queue = my_tasks(UnitOfWork(engine), CLI, today=FRIDAY, staff_id=rui)
    assert [(t["customer_id"], t["moment"]) for t in queue] == [(keep, "birthday")]
