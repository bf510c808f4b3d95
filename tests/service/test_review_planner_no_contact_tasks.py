"""A customer who died, or asked not to be contacted, after their call was planned.

The call list is made at 06:00; the family rings at 09:00 and the profile is marked
deceased. Nobody should then be told to call again tomorrow, to send a handwritten card
after the last attempt, or to follow up next week, and the open call must leave the queue.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from regulars.domain.access import CLI
from regulars.domain.errors import InvalidInput
from regulars.services import customers as customer_service
from regulars.services.outcomes import record_outcome
from regulars.services.planning import plan_day
from regulars.services.tasks import my_tasks
from regulars.store.planner_tables import staff_tasks
from regulars.store.uow import UnitOfWork
from tests import factories

FRIDAY = date(2026, 5, 1)
SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)


def _birthday_call(engine: Engine) -> tuple[int, int, int]:
    """(rep, customer, call task) for a big spender whose birthday the owner calls about."""
    factories.dealership(engine, SIX)
    rui = factories.rep(engine, SIX, daily_call_capacity=3)
    cid = factories.car_buyer(engine, SIX, rui)
    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    with engine.connect() as conn:
        [task] = conn.execute(select(staff_tasks.c.id)).all()
    return rui, cid, int(task.id)


def _mark(engine: Engine, customer_id: int, status: str) -> None:
    customer_service.update_customer(
        UnitOfWork(engine), CLI, customer_id, {"status": status}, now=SIX + timedelta(hours=3)
    )


def _open_tasks(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(staff_tasks).where(staff_tasks.c.status == "open")))


@pytest.mark.parametrize("status", ["deceased", "do_not_contact"])
def test_an_unanswered_call_is_not_retried_once_the_customer_may_not_be_called(
    engine: Engine, status: str
) -> None:
    _, cid, task_id = _birthday_call(engine)
    _mark(engine, cid, status)

    answer = record_outcome(
        UnitOfWork(engine), CLI, task_id, {"outcome": "not_reached"}, now=SIX + timedelta(hours=4)
    )

    assert answer["new_tasks"] == []
    assert _open_tasks(engine) == []


def test_the_last_unanswered_call_of_a_customer_who_died_becomes_no_card(engine: Engine) -> None:
    _, cid, task_id = _birthday_call(engine)
    task_id = factories.unanswered(engine, CLI, task_id, 2, SIX)
    _mark(engine, cid, "deceased")

    answer = record_outcome(
        UnitOfWork(engine), CLI, task_id, {"outcome": "not_reached"}, now=SIX + timedelta(days=2)
    )

    assert answer["new_tasks"] == []
    assert _open_tasks(engine) == []


def test_a_follow_up_for_a_customer_who_died_is_refused_by_name(engine: Engine) -> None:
    _, cid, task_id = _birthday_call(engine)
    _mark(engine, cid, "deceased")

    with pytest.raises(InvalidInput) as refused:
        record_outcome(
            UnitOfWork(engine),
            CLI,
            task_id,
            {"outcome": "reached", "follow_up_on": "2026-05-08"},
            now=SIX + timedelta(hours=4),
        )

    assert [p.field for p in refused.value.problems] == ["follow_up_on"]
    assert [t.id for t in _open_tasks(engine)] == [task_id]


@pytest.mark.parametrize("status", ["deceased", "do_not_contact"])
def test_a_planned_call_leaves_the_queue_once_the_customer_may_not_be_called(
    engine: Engine, status: str
) -> None:
    rui, cid, _ = _birthday_call(engine)
    assert len(my_tasks(UnitOfWork(engine), CLI, today=FRIDAY, staff_id=rui)) == 1
    _mark(engine, cid, status)

    assert my_tasks(UnitOfWork(engine), CLI, today=FRIDAY, staff_id=rui) == []
