"""A "we miss you" call leaves the rep's queue once the customer has come back.

The dealership calls a lapsing regular within five days. If she walks into the showroom
the day after the plan, the rep must not ring her that afternoon to say "we have not seen
you in a while": the e-mail version is already stopped at send time, the call now is too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from regulars.domain.access import CLI
from regulars.services.checkin import check_in
from regulars.services.ingest import ingest_events
from regulars.services.planning import plan_day
from regulars.services.tasks import my_tasks
from regulars.store.uow import UnitOfWork
from tests import factories

FRIDAY = date(2026, 5, 1)
SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
ENROLLED = datetime(2025, 11, 1, 10, 0, tzinfo=UTC)


def test_a_lapsing_call_leaves_the_queue_when_the_customer_comes_back(engine: Engine) -> None:
    factories.location(engine, ENROLLED, code="DEAL-POR", kind="dealership")
    rui = factories.staff(
        engine, ENROLLED, email="rui@example.com", locations=["DEAL-POR"], daily_call_capacity=3
    )
    factories.customer(
        engine,
        ENROLLED,
        first_name="Vera",
        phone="+351910000001",
        card_number="VW-7",
        home_location="DEAL-POR",
        owner_staff_id=rui,
    )
    visits = ["2025-11-10T10:00:00+00:00", "2025-12-01T10:00:00+00:00", "2025-12-30T10:00:00+00:00"]
    ingest_events(
        UnitOfWork(engine),
        [
            factories.purchase(f"p-{n}", card_number="VW-7", location="DEAL-POR", at=at)
            for n, at in enumerate(visits)
        ],
        now=ENROLLED,
    )
    report = plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    assert [(line.moment, line.touch) for line in report.lines] == [("lapsing", "call")]
    assert [t["moment"] for t in my_tasks(UnitOfWork(engine), CLI, today=FRIDAY, staff_id=rui)] == [
        "lapsing"
    ]

    check_in(
        UnitOfWork(engine),
        CLI,
        {"card_number": "VW-7", "location": "DEAL-POR"},
        now=SIX + timedelta(hours=5),
    )

    assert my_tasks(UnitOfWork(engine), CLI, today=FRIDAY, staff_id=rui) == []
