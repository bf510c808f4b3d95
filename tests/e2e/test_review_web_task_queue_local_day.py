"""The API's task queue counts days where the caller works, as the console's queue does."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, insert

from regulars.store.planner_tables import staff_tasks
from tests import factories
from tests.web_fixtures import ClientFor

#: 21:00 on Thursday 30 April in Denver, already Friday 1 May in UTC.
EVENING_IN_DENVER = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return EVENING_IN_DENVER


def _call_due_today_in_denver(engine: Engine) -> int:
    factories.location(engine, EVENING_IN_DENVER, code="CAFE-DEN", timezone="America/Denver")
    customer = factories.customer(
        engine, EVENING_IN_DENVER, first_name="Dana", home_location="CAFE-DEN"
    )
    with engine.begin() as conn:
        return int(
            conn.execute(
                insert(staff_tasks)
                .values(
                    customer_id=customer,
                    kind="call",
                    moment="win_back",
                    due_on=date(2026, 4, 30),
                    valid_until=date(2026, 4, 30),
                    summary="Call Dana today",
                    created_at=EVENING_IN_DENVER,
                )
                .returning(staff_tasks.c.id)
            ).scalar_one()
        )


def test_a_call_due_today_in_denver_stays_in_the_api_queue_all_evening(
    engine: Engine, client_for: ClientFor
) -> None:
    task = _call_due_today_in_denver(engine)
    rep = client_for("rep", ["CAFE-DEN"])

    answer = rep.get("/api/v1/tasks")

    assert answer.status_code == 200, answer.text
    listed = {t["id"]: t for t in answer.json()["tasks"]}
    assert task in listed, "the call vanished from the queue at 18:00 Denver time"
    assert listed[task]["overdue"] is False


def test_the_api_plan_defaults_to_the_day_at_the_location_asked_for(
    engine: Engine, client_for: ClientFor
) -> None:
    _call_due_today_in_denver(engine)
    factories.location(engine, EVENING_IN_DENVER, code="CAFE-LIS")
    owner = client_for("owner")

    in_denver = owner.get("/api/v1/plan", params={"location": "CAFE-DEN"})
    in_lisbon = owner.get("/api/v1/plan", params={"location": "CAFE-LIS"})

    assert in_denver.status_code == 200, in_denver.text
    assert in_denver.json()["date"] == "2026-04-30"  # still Thursday evening in Denver
    assert in_lisbon.json()["date"] == "2026-05-01"  # 04:00 on Friday in Lisbon
