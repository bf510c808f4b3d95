"""Several planners on the same day at once (the scheduler on several machines): one plan."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

from sqlalchemy import Engine, func, select

from regulars.services.planning import PlanReport, plan_day
from regulars.store.outbox_tables import outbox
from regulars.store.planner_tables import plan_decisions, staff_tasks
from regulars.store.uow import UnitOfWork
from tests import factories

SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
CONSENT = {"channel": "email", "granted": True, "at": "2025-01-01T10:00:00+00:00"}


def test_four_planners_at_once_write_each_decision_once(engine: Engine) -> None:
    factories.location(engine, SIX, code="CAFE-LIS", kind="cafe")
    for n in range(12):
        factories.customer(
            engine,
            SIX,
            first_name=f"C{n}",
            email=f"c{n}@example.com",
            birthday="1990-05-01",
            home_location="CAFE-LIS",
            consents=[CONSENT] if n % 2 else [],
        )

    def plan(_: int) -> PlanReport:
        return plan_day(UnitOfWork(engine), day=date(2026, 5, 1), now=SIX)

    with ThreadPoolExecutor(max_workers=4) as pool:
        reports = list(pool.map(plan, range(4)))

    assert sorted(len(r.lines) for r in reports) == [0, 0, 0, 12]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(plan_decisions)) == 12
        assert conn.scalar(select(func.count()).select_from(outbox)) == 6
        assert conn.scalar(select(func.count()).select_from(staff_tasks)) == 6
