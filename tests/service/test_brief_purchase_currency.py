"""A brief states what a customer paid with its currency: a Brooklyn receipt is in dollars."""

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
NY_MORNING = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)  # 06:00 in New York


def test_the_last_purchase_in_a_brief_names_its_currency(engine: Engine) -> None:
    factories.location(
        engine, EARLIER, code="DEAL-NYC", kind="dealership", timezone="America/New_York"
    )
    rep = factories.staff(
        engine, EARLIER, locations=["DEAL-NYC"], daily_call_capacity=3, email="sam@example.com"
    )
    cid = factories.customer(
        engine,
        EARLIER,
        first_name="Joanne",
        phone="+12125550100",
        birthday="1970-05-01",
        home_location="DEAL-NYC",
        owner_staff_id=rep,
    )
    tyres = factories.purchase(
        "tyres-1",
        customer_id=cid,
        at="2026-03-10T10:00:00-04:00",
        currency="USD",
        lines=[{"sku": "tyre", "category": "parts", "unit_price": 13_450, "quantity": 4}],
    )
    ingest_events(UnitOfWork(engine), [tyres], now=EARLIER)
    plan_day(UnitOfWork(engine), day=date(2026, 5, 1), now=NY_MORNING)
    with engine.connect() as conn:
        [task_id] = conn.scalars(select(staff_tasks.c.id)).all()

    brief = brief_for_task(UnitOfWork(engine), CLI, task_id, now=NY_MORNING)

    summaries = [i["summary"] for i in brief["last_interactions"]]
    assert "bought 4 item(s) for 538.00 USD" in summaries
