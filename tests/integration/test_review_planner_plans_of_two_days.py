"""Plans of two different days at once (yesterday's, caught up late, and today's) write each
decision once and both finish.

A lapsing regular is found on every morning of the week her silence crosses the line, under
one key (her last visit). When the scheduler catches up a missed day on one machine while
another plans today, both used to find the key undecided and the slower one failed on the
unique key (on PostgreSQL), so its whole day was rolled back and planned again later.
"""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from regulars.services import planning
from regulars.services.ingest import ingest_events
from regulars.services.planning import PlanReport, plan_day
from regulars.store.planner_tables import plan_decisions
from regulars.store.uow import UnitOfWork
from tests import factories

SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)


def test_yesterdays_late_plan_and_todays_plan_at_once_both_finish(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    enrolled = SIX - timedelta(days=100)
    factories.location(engine, enrolled, code="CAFE-LIS", kind="cafe")  # k = 3, floor 14 days
    regular = factories.customer(engine, enrolled, first_name="Tomás", home_location="CAFE-LIS")
    bought = [
        factories.purchase(f"t-{n}", customer_id=regular, at=(SIX - timedelta(days=d)).isoformat())
        for n, d in enumerate((90, 70, 60, 51))
    ]
    ingest_events(UnitOfWork(engine), bought, now=SIX)
    gather = planning.gather_facts
    both_read = threading.Barrier(2, timeout=2)

    def slow_gather(*args: Any, **kwargs: Any) -> Any:  # both have read what is decided
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait()  # planners that queue one after the other never meet here
        time.sleep(0.2)
        return gather(*args, **kwargs)

    monkeypatch.setattr(planning, "gather_facts", slow_gather)

    def plan(day: date) -> PlanReport:
        return plan_day(UnitOfWork(engine), day=day, now=SIX + timedelta(hours=1))

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(plan, [date(2026, 4, 30), date(2026, 5, 1)]))

    assert sorted(len(r.lines) for r in reports) == [0, 1]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(plan_decisions)) == 1
