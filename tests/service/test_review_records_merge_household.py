"""Merging two profiles of one person who are already in the same household: one row for him."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, select, update

from regulars.domain.access import CLI
from regulars.services import customers as service
from regulars.services.queries import customer_360
from regulars.store.tables import assets, customers, household_members
from regulars.store.uow import UnitOfWork
from tests import factories


def _member(engine: Engine, now: datetime, of: int, **member: Any) -> int:
    return service.add_household_member(UnitOfWork(engine), CLI, of, member, now=now)


def _one_household(engine: Engine, now: datetime) -> tuple[int, int, int]:
    """Angela's household lists her husband twice: once per profile he was enrolled under."""
    angela = factories.customer(engine, now, first_name="Angela", last_name="Walker")
    keep = factories.customer(engine, now, first_name="Dan", last_name="Walker")
    dup = factories.customer(engine, now, first_name="Daniel", last_name="Walker")
    _member(engine, now, angela, name="Dan", relation="spouse", customer_id=keep)
    row = _member(
        engine,
        now,
        angela,
        name="Daniel",
        relation="spouse",
        customer_id=dup,
        birthday="1960-02-29",
    )
    service.add_asset(
        UnitOfWork(engine),
        CLI,
        angela,
        {"kind": "car", "label": "2019 VW Polo", "member_name": "Daniel"},
        now=now,
    )
    with engine.begin() as conn:
        household = conn.scalar(
            select(household_members.c.household_id).where(household_members.c.id == row)
        )
        conn.execute(
            update(customers).where(customers.c.id.in_((keep, dup))).values(household_id=household)
        )
    return angela, keep, dup


def test_merging_two_profiles_in_one_household_leaves_one_member_row_for_the_person(
    engine: Engine, now: datetime
) -> None:
    angela, keep, dup = _one_household(engine, now)

    service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)

    view = customer_360(UnitOfWork(engine, readonly=True), CLI, angela)
    assert view.household is not None
    members = [(m.name, m.relation, m.birthday) for m in view.household.members]
    assert members == [("Dan", "spouse", date(1960, 2, 29))]  # once, the birthday kept
    with engine.connect() as conn:
        linked = conn.execute(
            select(household_members.c.id).where(household_members.c.customer_id == keep)
        ).all()
        car_member = conn.scalar(select(assets.c.member_id).where(assets.c.label == "2019 VW Polo"))
    assert len(linked) == 1
    assert car_member == linked[0].id  # the car still belongs to him
