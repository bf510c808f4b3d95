"""A rep's day holds what the planner gives them plus the calls already waiting for that day.

Yesterday's unanswered call comes back today as a retry; a follow-up promised for today is
on the list too. Both are calls the rep makes today, so today's plan counts them against
the rep's ``daily_call_capacity`` and against the customer's one call a day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from regulars.domain.access import CLI
from regulars.services import customers as customer_service
from regulars.services.ingest import ingest_events
from regulars.services.outcomes import record_outcome
from regulars.services.planning import plan_day
from regulars.store.planner_tables import staff_tasks
from regulars.store.uow import UnitOfWork
from tests import factories

THURSDAY = date(2026, 4, 30)
FRIDAY = date(2026, 5, 1)
THURSDAY_SIX = datetime(2026, 4, 30, 5, 0, tzinfo=UTC)
FRIDAY_SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)


def _rep(engine: Engine, capacity: int) -> int:
    factories.dealership(engine, THURSDAY_SIX)
    return factories.rep(engine, THURSDAY_SIX, daily_call_capacity=capacity)


def _big_spender(engine: Engine, n: int, owner: int, birthday: str) -> int:
    """A customer whose birthday the dealership playbook marks with a call by the owner."""
    return factories.car_buyer(
        engine,
        THURSDAY_SIX,
        owner,
        external_id=f"car-{n}",
        first_name=f"Vip{n}",
        phone=f"+35191000000{n}",
        birthday=birthday,
    )


def _open_calls(engine: Engine) -> list[Any]:
    t = staff_tasks.c
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(staff_tasks).where(t.kind == "call", t.status == "open").order_by(t.id)
            )
        )


def _unanswered_on_thursday(engine: Engine) -> None:
    plan_day(UnitOfWork(engine), day=THURSDAY, now=THURSDAY_SIX)
    [call] = _open_calls(engine)
    record_outcome(
        UnitOfWork(engine),
        CLI,
        call.id,
        {"outcome": "not_reached"},
        now=THURSDAY_SIX + timedelta(hours=8),
    )


def _golf_recalled_on_thursday(engine: Engine, customer: int) -> None:
    """The customer's Golf is recalled (brake hose) on Thursday; the recall arrives Friday."""
    customer_service.add_asset(
        UnitOfWork(engine),
        CLI,
        customer,
        {"kind": "car", "label": "Golf", "model_code": "VW-GOLF-8"},
        now=THURSDAY_SIX,
    )
    recall = {
        "type": "recall",
        "source": "vw",
        "external_id": "recall-1",
        "occurred_at": "2026-04-30T15:00:00+00:00",
        "asset_model": "VW-GOLF-8",
        "title": "Brake hose",
    }
    ingest_events(UnitOfWork(engine), [recall], now=FRIDAY_SIX)


def test_yesterdays_unanswered_call_takes_one_of_todays_calls(engine: Engine) -> None:
    rui = _rep(engine, capacity=1)
    _big_spender(engine, 1, rui, "1970-04-30")
    friday_birthday = _big_spender(engine, 2, rui, "1970-05-01")
    _unanswered_on_thursday(engine)

    report = plan_day(UnitOfWork(engine), day=FRIDAY, now=FRIDAY_SIX)

    [line] = [line for line in report.lines if line.customer_id == friday_birthday]
    assert line.touch == "card"
    assert "no call capacity left today" in line.reasons
    assert [(c.attempt, c.due_on) for c in _open_calls(engine)] == [(2, FRIDAY)]


def test_a_customer_called_again_today_gets_no_second_call_from_the_plan(
    engine: Engine,
) -> None:
    rui = _rep(engine, capacity=5)
    customer = _big_spender(engine, 1, rui, "1970-04-30")
    _unanswered_on_thursday(engine)
    _golf_recalled_on_thursday(engine, customer)

    report = plan_day(UnitOfWork(engine), day=FRIDAY, now=FRIDAY_SIX)

    [recall_line] = [line for line in report.lines if line.moment == "recall"]
    assert recall_line.touch != "call"
    assert "a human touch is already planned for this customer today" in recall_line.reasons
    assert [(c.attempt, c.due_on) for c in _open_calls(engine)] == [(2, FRIDAY)]


def test_a_call_left_open_for_weeks_does_not_hold_back_todays_call(engine: Engine) -> None:
    rui = _rep(engine, capacity=5)
    customer = _big_spender(engine, 1, rui, "1970-04-14")
    plan_day(UnitOfWork(engine), day=date(2026, 4, 14), now=datetime(2026, 4, 14, 5, tzinfo=UTC))
    assert len(_open_calls(engine)) == 1  # never made, never closed
    _golf_recalled_on_thursday(engine, customer)

    report = plan_day(UnitOfWork(engine), day=FRIDAY, now=FRIDAY_SIX)

    [recall_line] = [line for line in report.lines if line.moment == "recall"]
    assert recall_line.touch == "call"
