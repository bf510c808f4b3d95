"""Nobody is asked to "ask after" a husband who has died.

Rui was Ana's husband and a customer himself; his profile is marked deceased. On his
birthday the counter used to tell the barista "It is Rui's birthday today (Ana's spouse):
ask after them", and the planner left the same prompt for Ana's next visit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from regulars.domain.access import CLI
from regulars.services import customers as customer_service
from regulars.services.checkin import check_in
from regulars.services.planning import plan_day
from regulars.store.uow import UnitOfWork
from tests import factories

SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)


def test_a_late_husbands_birthday_is_neither_planned_nor_said_at_the_counter(
    engine: Engine,
) -> None:
    factories.location(engine, SIX, code="CAFE-LIS", kind="cafe")
    ana = factories.customer(
        engine, SIX, first_name="Ana", card_number="RG-7", home_location="CAFE-LIS"
    )
    rui = factories.customer(
        engine, SIX, first_name="Rui", birthday="1960-05-01", home_location="CAFE-LIS"
    )
    customer_service.add_household_member(
        UnitOfWork(engine),
        CLI,
        ana,
        {"name": "Rui", "relation": "spouse", "birthday": "1960-05-01", "customer_id": rui},
        now=SIX,
    )
    customer_service.update_customer(UnitOfWork(engine), CLI, rui, {"status": "deceased"}, now=SIX)

    report = plan_day(UnitOfWork(engine), day=date(2026, 5, 1), now=SIX)
    view = check_in(
        UnitOfWork(engine),
        CLI,
        {"card_number": "RG-7", "location": "CAFE-LIS"},
        now=SIX + timedelta(hours=4),
    )

    assert [line.moment for line in report.lines if line.customer_id == ana] == []
    assert view["household_birthdays"] == []
    assert view["prompts"] == []


def test_a_late_husbands_card_scanned_on_his_birthday_prompts_no_greeting(
    engine: Engine,
) -> None:
    factories.location(engine, SIX, code="CAFE-LIS", kind="cafe")
    rui = factories.customer(
        engine,
        SIX,
        first_name="Rui",
        birthday="1960-05-01",
        card_number="RG-9",
        home_location="CAFE-LIS",
    )
    customer_service.update_customer(UnitOfWork(engine), CLI, rui, {"status": "deceased"}, now=SIX)

    view = check_in(  # his widow still uses his card
        UnitOfWork(engine),
        CLI,
        {"card_number": "RG-9", "location": "CAFE-LIS"},
        now=SIX + timedelta(hours=4),
    )

    assert view["status"] == "deceased"
    assert view["birthday_today"] is False
    assert view["prompts"] == []
