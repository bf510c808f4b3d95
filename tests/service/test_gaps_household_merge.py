"""Merging duplicates that both have households: one household, everyone in it, none left over."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI, Actor
from regulars.domain.customers import Role
from regulars.domain.errors import Conflict
from regulars.services import customers as service
from regulars.services.queries import customer_360, find_by_card
from regulars.store.tables import audit_log, customers, household_members, households
from regulars.store.uow import UnitOfWork
from tests import factories


def _member(engine: Engine, now: datetime, of: int, **member: Any) -> int:
    return service.add_household_member(UnitOfWork(engine), CLI, of, member, now=now)


def _walkers(engine: Engine, now: datetime) -> tuple[int, int]:
    """Dan Walker enrolled twice: at the showroom and, years later, at the service desk."""
    keep = factories.customer(
        engine, now, first_name="Dan", last_name="Walker", card_number="K-100"
    )
    dup = factories.customer(engine, now, first_name="Dan", last_name="Walker", card_number="D-100")
    _member(engine, now, keep, name="Angela", relation="spouse")
    _member(engine, now, dup, name="angela ", relation="spouse", birthday="1961-06-02")
    _member(engine, now, dup, name="Tom", relation="child", birthday="2004-09-15")
    service.add_asset(
        UnitOfWork(engine),
        CLI,
        dup,
        {"kind": "car", "label": "2023 VW ID.4", "model_code": "VW-ID4", "member_name": "angela "},
        now=now,
    )
    service.add_asset(
        UnitOfWork(engine),
        CLI,
        dup,
        {"kind": "car", "label": "2019 VW Polo", "model_code": "VW-POLO", "member_name": "Tom"},
        now=now,
    )
    return keep, dup


def test_the_duplicates_household_members_join_the_kept_customers_household(
    engine: Engine, now: datetime
) -> None:
    keep, dup = _walkers(engine, now)

    service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)

    view = customer_360(UnitOfWork(engine, readonly=True), CLI, keep)
    assert view.household is not None
    members = {(m.name, m.relation, m.birthday) for m in view.household.members}
    assert members == {
        ("Angela", "spouse", date(1961, 6, 2)),  # listed by both: once, birthday kept
        ("Tom", "child", date(2004, 9, 15)),
    }
    cars = {(a.label, a.member_name) for a in view.assets}
    assert cars == {("2023 VW ID.4", "Angela"), ("2019 VW Polo", "Tom")}


def test_the_emptied_household_is_gone_and_no_row_points_at_it(
    engine: Engine, now: datetime
) -> None:
    keep, dup = _walkers(engine, now)
    with engine.connect() as conn:
        old = conn.scalar(select(customers.c.household_id).where(customers.c.id == dup))

    service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)

    with engine.connect() as conn:
        kept_household = conn.scalar(select(customers.c.household_id).where(customers.c.id == keep))
        assert conn.scalar(select(func.count()).select_from(households)) == 1
        assert conn.scalar(select(households.c.id)) == kept_household != old
        assert set(conn.scalars(select(household_members.c.household_id))) == {kept_household}
        pointing = conn.scalar(
            select(func.count()).select_from(customers).where(customers.c.household_id == old)
        )
        assert pointing == 0
        entry = conn.execute(
            select(audit_log.c.after).where(audit_log.c.action == "customer.merge")
        ).scalar_one()
    assert entry["household_merged"] == old
    assert len(entry["household_members_moved"]) == 1  # Tom; Angela was there already


def test_the_old_card_still_finds_the_kept_customer_and_the_whole_family(
    engine: Engine, now: datetime
) -> None:
    keep, dup = _walkers(engine, now)

    service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)

    found = find_by_card(UnitOfWork(engine, readonly=True), CLI, "d-100")
    assert found is not None and found.id == keep
    view = customer_360(UnitOfWork(engine, readonly=True), CLI, found.id)
    assert view.household is not None
    assert sorted(m.name for m in view.household.members) == ["Angela", "Tom"]


def test_a_spouse_with_her_own_profile_moves_into_the_kept_household_with_the_rest(
    engine: Engine, now: datetime
) -> None:
    keep, dup = _walkers(engine, now)
    angela = factories.customer(engine, now, first_name="Angela", last_name="Walker")
    with engine.begin() as conn:
        dup_household = conn.scalar(select(customers.c.household_id).where(customers.c.id == dup))
        conn.execute(
            customers.update().where(customers.c.id == angela).values(household_id=dup_household)
        )
        conn.execute(
            household_members.update()
            .where(household_members.c.household_id == dup_household)
            .where(household_members.c.relation == "spouse")
            .values(customer_id=angela)
        )

    service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)

    with engine.connect() as conn:
        kept_household = conn.scalar(select(customers.c.household_id).where(customers.c.id == keep))
        hers = conn.scalar(select(customers.c.household_id).where(customers.c.id == angela))
        link = conn.scalar(
            select(household_members.c.customer_id).where(household_members.c.name == "Angela")
        )
    assert hers == kept_household
    assert link == angela  # the kept "Angela" row learned who she is


def test_a_member_row_naming_the_duplicate_names_the_kept_customer_after_the_merge(
    engine: Engine, now: datetime
) -> None:
    keep = factories.customer(
        engine, now, first_name="Dan", last_name="Walker", card_number="K-100"
    )
    dup = factories.customer(engine, now, first_name="Dan", last_name="Walker", card_number="D-100")
    angela = factories.customer(engine, now, first_name="Angela", last_name="Walker")
    _member(engine, now, angela, name="Dan", relation="spouse", customer_id=dup)

    service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)

    view = customer_360(UnitOfWork(engine, readonly=True), CLI, angela)
    assert view.household is not None
    assert [m.customer_id for m in view.household.members] == [keep]


def test_with_only_the_duplicate_in_a_household_the_kept_customer_takes_it_over(
    engine: Engine, now: datetime
) -> None:
    keep = factories.customer(
        engine, now, first_name="Dan", last_name="Walker", card_number="K-100"
    )
    dup = factories.customer(engine, now, first_name="Dan", last_name="Walker", card_number="D-100")
    _member(engine, now, dup, name="Tom", relation="child")

    service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)

    view = customer_360(UnitOfWork(engine, readonly=True), CLI, keep)
    assert view.household is not None
    assert [m.name for m in view.household.members] == ["Tom"]


def test_a_lisbon_manager_cannot_move_a_london_customer_by_merging_into_her_household(
    engine: Engine, now: datetime
) -> None:
    lis = factories.location(engine, now, code="CAFE-LIS")
    factories.location(engine, now, code="CAFE-LON", timezone="Europe/London")
    keep = factories.customer(engine, now, first_name="Dan", home_location="CAFE-LIS")
    dup = factories.customer(engine, now, first_name="Dan", home_location="CAFE-LIS")
    angela = factories.customer(engine, now, first_name="Angela", home_location="CAFE-LON")
    _member(engine, now, keep, name="Tom", relation="child")
    _member(engine, now, dup, name="Tom", relation="child")
    with engine.begin() as conn:  # Angela lives in the duplicate's household
        household = conn.scalar(select(customers.c.household_id).where(customers.c.id == dup))
        conn.execute(
            customers.update().where(customers.c.id == angela).values(household_id=household)
        )
    lisbon_manager = Actor(kind="staff", id=7, role=Role.manager, locations=frozenset({lis}))

    with pytest.raises(Conflict) as refused:
        service.merge_customers(UnitOfWork(engine), lisbon_manager, keep, dup, now=now)

    assert refused.value.field == "duplicate_id"
    with engine.connect() as conn:
        assert conn.scalar(select(customers.c.household_id).where(customers.c.id == angela)) == (
            household
        )
        assert conn.scalar(select(customers.c.status).where(customers.c.id == dup)) == "active"

    service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)

    with engine.connect() as conn:
        after = conn.scalar(select(audit_log.c.after).where(audit_log.c.action == "customer.merge"))
    assert after is not None
    assert after["customers_moved"] == [angela]
