"""The scheduler: each location's plan at its own local hour, once per local day."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, func, select

from regulars.channels.fake import FakeChannel
from regulars.services.scheduler import (
    DuePlan,
    PlanRun,
    Scheduler,
    claim_plan,
    due_plans,
    run_due_plans,
    run_loyalty_jobs,
)
from regulars.store.outbox_tables import scheduler_runs
from regulars.store.planner_tables import plan_decisions
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.delivery_data import member_with_message
from tests.loyalty_support import balance, ingest, load, program_text

# 05:30 UTC on 1 May: 06:30 in Lisbon (plan hour 6 has struck), 01:30 in New York (not yet).
MORNING = datetime.fromisoformat("2026-05-01T05:30:00+00:00")


def _two_shops(engine: Engine, now: datetime) -> tuple[int, int]:
    lisbon = factories.location(engine, now, code="CAFE-LIS")
    new_york = factories.location(engine, now, code="CAFE-NYC", timezone="America/New_York")
    return lisbon, new_york


def test_a_location_is_due_once_its_plan_hour_strikes_in_its_own_time_zone(
    engine: Engine, now: datetime
) -> None:
    lisbon, new_york = _two_shops(engine, now)
    with engine.connect() as conn:
        assert due_plans(conn, MORNING - timedelta(hours=1)) == []  # 05:30 in Lisbon
        assert due_plans(conn, MORNING) == [DuePlan(lisbon, "CAFE-LIS", date(2026, 5, 1))]
        at_ny = MORNING + timedelta(hours=5)  # 06:30 in New York
        assert {p.code for p in due_plans(conn, at_ny)} == {"CAFE-LIS", "CAFE-NYC"}
        late_evening = datetime.fromisoformat("2026-05-02T03:30:00+00:00")  # 23:30 in NY
        assert DuePlan(new_york, "CAFE-NYC", date(2026, 5, 1)) in due_plans(conn, late_evening)


def test_each_location_day_is_planned_once_however_often_the_scheduler_ticks(
    engine: Engine, now: datetime
) -> None:
    _two_shops(engine, now)
    first = run_due_plans(lambda: UnitOfWork(engine), now=MORNING, worker_id="a")
    again = run_due_plans(
        lambda: UnitOfWork(engine), now=MORNING + timedelta(minutes=1), worker_id="b"
    )
    next_day = run_due_plans(
        lambda: UnitOfWork(engine), now=MORNING + timedelta(days=1), worker_id="a"
    )
    assert [(r.location, r.day, r.ok) for r in first] == [("CAFE-LIS", date(2026, 5, 1), True)]
    assert "decisions" in first[0].detail
    assert again == []
    assert [(r.location, r.day) for r in next_day] == [("CAFE-LIS", date(2026, 5, 2))]


def test_a_day_claimed_by_a_worker_that_died_is_taken_over_after_half_an_hour(
    engine: Engine, now: datetime
) -> None:
    lisbon, _ = _two_shops(engine, now)
    plan = DuePlan(lisbon, "CAFE-LIS", date(2026, 5, 1))
    with UnitOfWork(engine) as uow:
        assert claim_plan(uow.conn, plan, now=MORNING, worker_id="dies") is True
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert (
            claim_plan(uow.conn, plan, now=MORNING + timedelta(minutes=5), worker_id="b") is False
        )
        assert claim_plan(uow.conn, plan, now=MORNING + timedelta(minutes=31), worker_id="b")
        uow.commit()
    with engine.connect() as conn:
        assert conn.scalar(select(scheduler_runs.c.worker_id)) == "b"


def test_several_schedulers_at_once_plan_each_location_day_exactly_once(
    engine: Engine, now: datetime
) -> None:
    for n in range(6):
        factories.location(engine, now, code=f"SHOP-{n}")
    results: list[PlanRun] = []
    lock = threading.Lock()

    def tick(worker: str) -> None:
        runs = run_due_plans(lambda: UnitOfWork(engine), now=MORNING, worker_id=worker)
        with lock:
            results.extend(runs)

    threads = [threading.Thread(target=tick, args=(f"s{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(r.location for r in results) == [f"SHOP-{n}" for n in range(6)]
    assert all(r.ok for r in results)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(scheduler_runs)) == 6


def test_one_tick_plans_the_day_and_then_sends_what_is_due(engine: Engine, now: datetime) -> None:
    factories.location(engine, now)
    member_with_message(engine, MORNING)
    email = FakeChannel("email")
    scheduler = Scheduler(
        lambda: UnitOfWork(engine), {"email": email}, clock=lambda: MORNING, worker_id="serve"
    )
    report = scheduler.tick()
    assert [r.location for r in report.plans] == ["CAFE-LIS"]
    assert report.delivery.sent == 1 and email.sent_keys() == ["tier:ana"]
    assert scheduler.tick().plans == []


def test_customers_without_a_home_location_are_planned_once_a_day_with_the_first_location(
    engine: Engine, now: datetime
) -> None:
    _two_shops(engine, now)
    placed = factories.customer(engine, now, birthday="1990-05-01", home_location="CAFE-LIS")
    unplaced = factories.customer(engine, now, first_name="Zé", birthday="1985-05-01")

    lisbon = run_due_plans(lambda: UnitOfWork(engine), now=MORNING, worker_id="serve")
    new_york = run_due_plans(
        lambda: UnitOfWork(engine), now=MORNING + timedelta(hours=5), worker_id="serve"
    )

    assert [(r.location, r.ok) for r in lisbon] == [("CAFE-LIS", True)]
    assert [(r.location, r.ok) for r in new_york] == [("CAFE-NYC", True)]
    assert new_york[0].detail.startswith("0 decisions")
    assert new_york[0].detail.endswith("0 already decided")  # Zé was not looked at again
    with engine.connect() as conn:
        birthdays = list(
            conn.scalars(
                select(plan_decisions.c.customer_id).where(plan_decisions.c.moment == "birthday")
            )
        )
    assert sorted(birthdays) == sorted([placed, unplaced])


def test_a_day_the_scheduler_missed_entirely_is_planned_late_oldest_first(
    engine: Engine, now: datetime
) -> None:
    lisbon = factories.location(engine, now, code="CAFE-LIS")
    run_due_plans(lambda: UnitOfWork(engine), now=MORNING, worker_id="a")  # 1 May planned
    three_days_later = MORNING + timedelta(days=3)  # the server was down on 2 and 3 May

    with engine.connect() as conn:
        due = due_plans(conn, three_days_later)
    runs = run_due_plans(lambda: UnitOfWork(engine), now=three_days_later, worker_id="a")

    assert due == [
        DuePlan(lisbon, "CAFE-LIS", date(2026, 5, 2), late=True),
        DuePlan(lisbon, "CAFE-LIS", date(2026, 5, 3), late=True),
        DuePlan(lisbon, "CAFE-LIS", date(2026, 5, 4)),
    ]
    assert [(r.day, r.ok) for r in runs] == [
        (date(2026, 5, 2), True),
        (date(2026, 5, 3), True),
        (date(2026, 5, 4), True),
    ]
    assert runs[0].detail.startswith("planned late")
    with engine.connect() as conn:
        assert due_plans(conn, three_days_later) == []


def test_catching_up_goes_back_two_days_at_most_and_not_before_the_first_plan(
    engine: Engine, now: datetime
) -> None:
    lisbon = factories.location(engine, now, code="CAFE-LIS")
    a_week_later = MORNING + timedelta(days=7)
    with engine.connect() as conn:
        # Never planned before: a new installation starts today, it has nothing to catch up.
        assert due_plans(conn, a_week_later) == [DuePlan(lisbon, "CAFE-LIS", date(2026, 5, 8))]
    run_due_plans(lambda: UnitOfWork(engine), now=MORNING, worker_id="a")
    with engine.connect() as conn:
        assert [p.day for p in due_plans(conn, a_week_later)] == [
            date(2026, 5, 6),
            date(2026, 5, 7),
            date(2026, 5, 8),
        ]
        before_the_hour = a_week_later - timedelta(hours=1)  # 05:30 in Lisbon on 8 May
        assert [p.day for p in due_plans(conn, before_the_hour)] == [
            date(2026, 5, 6),
            date(2026, 5, 7),
        ]


def test_the_nightly_loyalty_jobs_run_once_a_day_from_two_in_the_morning(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, code="CAFE-LIS")
    load(engine, now, program_text("cafe"))
    cid = factories.customer(engine, now)
    bought = datetime.fromisoformat("2026-04-20T10:00:00+01:00")
    ingest(
        engine,
        bought,
        factories.purchase("p1", customer_id=cid, location="CAFE-LIS", at=bought.isoformat()),
    )
    assert balance(engine, cid)[1] > 0  # pending for the seven-day return window
    one_am = datetime.fromisoformat("2026-05-01T00:30:00+00:00")  # 01:30 in Lisbon
    half_two = one_am + timedelta(hours=1)

    def run(at: datetime, worker: str) -> PlanRun | None:
        return run_loyalty_jobs(lambda: UnitOfWork(engine), now=at, worker_id=worker)

    assert run(one_am, "a") is None
    first = run(half_two, "a")
    again = run(half_two + timedelta(minutes=1), "b")

    assert first is not None and first.ok, first
    assert "matured" in first.detail and first.day == date(2026, 5, 1)
    assert again is None
    available, pending = balance(engine, cid)
    assert pending == 0 and available > 0
