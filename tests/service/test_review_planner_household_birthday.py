"""One household, one touch for a child's birthday, however many parents are customers.

When both partners have a profile of their own in one household (a merge brings a spouse's
profile into the household, say), their son's birthday is one occasion for that household:
one handwritten card, not one per parent.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, update

from regulars.domain.access import CLI
from regulars.services import customers as customer_service
from regulars.services.ingest import ingest_events
from regulars.services.planning import plan_day
from regulars.store.tables import customers
from regulars.store.uow import UnitOfWork
from tests import factories

FRIDAY = date(2026, 5, 1)
SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
CAR = [{"sku": "car", "category": "cars", "unit_price": 3_000_000}]


def _parent(engine: Engine, name: str, owner: int) -> int:
    cid = factories.customer(
        engine,
        SIX,
        first_name=name,
        phone="+351910000001",
        birthday="1975-09-09",
        home_location="DEAL-POR",
        owner_staff_id=owner,
    )
    car = factories.purchase(
        f"car-{name}", customer_id=cid, at="2025-01-10T10:00:00+00:00", lines=CAR
    )
    ingest_events(UnitOfWork(engine), [car], now=SIX)
    return cid


def _one_household(engine: Engine, first: int, second: int) -> None:
    """Both partners in the first one's household, as a merge leaves a spouse's profile."""
    customer_service.add_household_member(
        UnitOfWork(engine),
        CLI,
        first,
        {"name": "Leo", "relation": "child", "birthday": "2015-05-01"},
        now=SIX,
    )
    customer_service.add_household_member(
        UnitOfWork(engine),
        CLI,
        first,
        {"name": "Rita", "relation": "spouse", "customer_id": second},
        now=SIX,
    )
    with engine.begin() as conn:
        household = conn.scalar(
            customers.select()
            .with_only_columns(customers.c.household_id)
            .where(customers.c.id == first)
        )
        conn.execute(
            update(customers).where(customers.c.id == second).values(household_id=household)
        )


def test_a_childs_birthday_is_one_card_for_a_household_of_two_customers(engine: Engine) -> None:
    factories.location(engine, SIX, code="DEAL-POR", kind="dealership")
    rui = factories.staff(engine, SIX, email="rui@example.com", locations=["DEAL-POR"])
    dad, mum = _parent(engine, "Nuno", rui), _parent(engine, "Rita", rui)
    _one_household(engine, dad, mum)

    report = plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)

    touches = [
        (line.customer_id, line.touch)
        for line in report.lines
        if line.moment == "household_birthday" and line.status == "planned"
    ]
    assert touches == [(dad, "card")]


def test_the_parent_still_with_us_gets_the_card_when_the_other_has_died(engine: Engine) -> None:
    factories.location(engine, SIX, code="DEAL-POR", kind="dealership")
    rui = factories.staff(engine, SIX, email="rui@example.com", locations=["DEAL-POR"])
    dad, mum = _parent(engine, "Nuno", rui), _parent(engine, "Rita", rui)
    _one_household(engine, dad, mum)
    customer_service.update_customer(UnitOfWork(engine), CLI, dad, {"status": "deceased"}, now=SIX)

    report = plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)

    touches = [
        (line.customer_id, line.touch)
        for line in report.lines
        if line.moment == "household_birthday" and line.status == "planned"
    ]
    assert touches == [(mum, "card")]
