"""An unanswered call comes back on a day its rep works, not on their day off.

Rui works Monday to Friday. Friday's unanswered call used to come back on Saturday, in
the queue of someone who is not there, and showed up on Monday as overdue. It now waits
for Rui's next working day. A follow-up the customer asked for on a day Rui is off is left
to the team at the location (unassigned), so somebody makes it on that day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from regulars.domain.access import CLI
from regulars.services.outcomes import record_outcome
from regulars.services.planning import plan_day
from regulars.store.planner_tables import staff_tasks
from regulars.store.uow import UnitOfWork
from tests import factories

FRIDAY = date(2026, 5, 1)
MONDAY = date(2026, 5, 4)
SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)


def _friday_call(engine: Engine) -> tuple[int, int]:
    """(Rui, the birthday call he makes on Friday); Rui works Monday to Friday."""
    factories.dealership(engine, SIX)
    rui = factories.rep(
        engine, SIX, daily_call_capacity=3, working_days=["mon", "tue", "wed", "thu", "fri"]
    )
    factories.car_buyer(engine, SIX, rui)
    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    with engine.connect() as conn:
        [task_id] = conn.scalars(select(staff_tasks.c.id)).all()
    return rui, int(task_id)


def _new(engine: Engine, answer: dict[str, Any]) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(select(staff_tasks).where(staff_tasks.c.id.in_(answer["new_tasks"])))
        )


def test_fridays_unanswered_call_comes_back_on_the_reps_monday(engine: Engine) -> None:
    rui, task_id = _friday_call(engine)

    answer = record_outcome(
        UnitOfWork(engine), CLI, task_id, {"outcome": "not_reached"}, now=SIX + timedelta(hours=9)
    )

    [retry] = _new(engine, answer)
    assert (retry.kind, retry.due_on, retry.assignee_staff_id) == ("call", MONDAY, rui)


def test_a_follow_up_on_the_reps_day_off_is_left_to_the_team(engine: Engine) -> None:
    _, task_id = _friday_call(engine)

    answer = record_outcome(
        UnitOfWork(engine),
        CLI,
        task_id,
        {"outcome": "reached", "follow_up_on": "2026-05-09"},  # a Saturday
        now=SIX + timedelta(hours=9),
    )

    [follow_up] = _new(engine, answer)
    assert (follow_up.due_on, follow_up.assignee_staff_id) == (date(2026, 5, 9), None)
