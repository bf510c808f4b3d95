"""A brief speaks the customer's calendar: the last call of a Tokyo customer is dated in Tokyo.

A call made at 08:30 on 29 April in Tokyo is 23:30 on 28 April in UTC; the advisor who
opens the brief and says "when we spoke on the 28th" is a day off.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, select

from regulars.domain.access import CLI
from regulars.services.briefs import brief_for_task
from regulars.services.ingest import ingest_events
from regulars.services.planning import plan_day
from regulars.store.planner_tables import staff_tasks
from regulars.store.uow import UnitOfWork
from tests import factories

EARLIER = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
TOKYO_MORNING = datetime(2026, 5, 1, 21, 0, tzinfo=UTC)  # 06:00 on 2 May in Tokyo
CAR = [{"sku": "car", "category": "cars", "unit_price": 3_000_000}]


def test_the_last_call_in_a_tokyo_brief_is_dated_on_the_tokyo_day(engine: Engine) -> None:
    factories.location(engine, EARLIER, code="DEAL-TYO", kind="dealership", timezone="Asia/Tokyo")
    ken = factories.staff(
        engine,
        EARLIER,
        email="ken@example.com",
        name="Ken",
        locations=["DEAL-TYO"],
        daily_call_capacity=3,
    )
    cid = factories.customer(
        engine,
        EARLIER,
        first_name="Aiko",
        phone="+81312345678",
        birthday="1970-05-02",
        home_location="DEAL-TYO",
        owner_staff_id=ken,
    )
    call = {
        "type": "call",
        "source": "phone",
        "external_id": "call-1",
        "occurred_at": "2026-04-29T08:30:00+09:00",
        "customer_id": cid,
        "direction": "outbound",
        "outcome": "reached",
        "notes": "worried about the recall",
    }
    car = factories.purchase("car-1", customer_id=cid, at="2025-01-10T10:00:00+00:00", lines=CAR)
    ingest_events(UnitOfWork(engine), [car, call], now=EARLIER)
    plan_day(UnitOfWork(engine), day=date(2026, 5, 2), now=TOKYO_MORNING)
    with engine.connect() as conn:
        [task_id] = conn.scalars(select(staff_tasks.c.id)).all()

    brief = brief_for_task(UnitOfWork(engine), CLI, task_id, now=TOKYO_MORNING)

    assert (
        "Last call (2026-04-29): outbound call, reached: worried about the recall"
        in brief["talking_points"]
    )
