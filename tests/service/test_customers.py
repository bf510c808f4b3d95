"""Customers: enrol, change, merge duplicates; every change audited, nothing half-written."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI, Actor
from regulars.domain.customers import Role
from regulars.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from regulars.services import customers as service
from regulars.services.ingest import ingest_events
from regulars.store.tables import (
    audit_log,
    consents,
    customers,
    events,
    household_members,
    locations,
    staff,
)
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import balance, ledger_sums_match, load, program_text


def test_a_customer_is_enrolled_with_normalised_contact_details_and_an_audit_entry(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    cid = factories.customer(
        engine,
        now,
        card_number="c 1001",
        phone="+351 912 345 678",
        email="Ana@Example.com",
        birthday="1992-02-29",
        home_location="CAFE-LIS",
        quiet_hours={"start": "21:00", "end": "08:00"},
        consents=[
            {
                "channel": "email",
                "granted": True,
                "at": "2026-01-05T10:00:00+00:00",
                "source": "in-store form",
            }
        ],
    )
    with engine.connect() as conn:
        row = conn.execute(select(customers).where(customers.c.id == cid)).one()
        assert (row.card_number, row.phone, row.email) == (
            "C1001",
            "+351912345678",
            "Ana@example.com",
        )
        assert row.birthday_key == 229
        assert conn.scalar(select(consents.c.granted).where(consents.c.customer_id == cid))
        assert (
            conn.scalar(
                select(func.count())
                .select_from(audit_log)
                .where(audit_log.c.action == "customer.create")
            )
            == 1
        )
        kinds = set(conn.scalars(select(events.c.type).where(events.c.customer_id == cid)))
        assert kinds == {"consent"}


def test_a_taken_card_number_is_a_conflict_and_writes_nothing(
    engine: Engine, now: datetime
) -> None:
    factories.customer(engine, now, card_number="C-100")
    with pytest.raises(Conflict) as caught:
        factories.customer(engine, now, card_number="c-100", first_name="Bea")
    assert caught.value.field == "card_number"
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(customers)) == 1


def test_an_update_changes_only_what_was_sent_and_keeps_before_and_after(
    engine: Engine, now: datetime
) -> None:
    cid = factories.customer(engine, now, city="Porto")
    service.update_customer(UnitOfWork(engine), CLI, cid, {"city": "Lisboa"}, now=now)
    with engine.connect() as conn:
        row = conn.execute(select(customers).where(customers.c.id == cid)).one()
        entry = conn.execute(select(audit_log).where(audit_log.c.action == "customer.update")).one()
    assert (row.city, row.first_name) == ("Lisboa", "Ana")
    assert entry.before == {"city": "Porto"} and entry.after["city"] == "Lisboa"


def test_bad_updates_name_the_field(engine: Engine, now: datetime) -> None:
    cid = factories.customer(engine, now)
    with pytest.raises(InvalidInput) as caught:
        service.update_customer(UnitOfWork(engine), CLI, cid, {"phone": "12"}, now=now)
    assert caught.value.field == "phone"
    with pytest.raises(InvalidInput):
        service.update_customer(UnitOfWork(engine), CLI, cid, {"first_name": None}, now=now)


def test_staff_of_one_location_cannot_see_a_customer_of_another(
    engine: Engine, now: datetime
) -> None:
    lisbon = factories.location(engine, now, "CAFE-LIS")
    factories.location(engine, now, "CAFE-LON", timezone="Europe/London")
    cid = factories.customer(engine, now, home_location="CAFE-LON")
    counter = Actor(kind="staff", id=1, role=None, locations=frozenset({lisbon}))
    with pytest.raises(NotFound):
        service.update_customer(UnitOfWork(engine), counter, cid, {"city": "x"}, now=now)


def test_an_update_may_not_leave_the_preferred_channel_without_its_address(
    engine: Engine, now: datetime
) -> None:
    cid = factories.customer(engine, now, email="ana@example.com", preferred_channel="email")

    for change in ({"email": None}, {"preferred_channel": "sms"}):
        with pytest.raises(InvalidInput) as caught:
            service.update_customer(UnitOfWork(engine), CLI, cid, change, now=now)
        assert caught.value.field == "preferred_channel"

    service.update_customer(
        UnitOfWork(engine),
        CLI,
        cid,
        {"phone": "+351912345678", "preferred_channel": "sms"},
        now=now,
    )
    with engine.connect() as conn:
        row = conn.execute(select(customers).where(customers.c.id == cid)).one()
    assert (row.email, row.preferred_channel) == ("ana@example.com", "sms")


def test_merging_duplicates_keeps_both_timelines_and_the_old_card_still_resolves(
    engine: Engine, now: datetime
) -> None:
    keep = factories.customer(engine, now, card_number="K-100")
    dup = factories.customer(engine, now, card_number="D-100", email="ana@example.com")
    ingest_events(
        UnitOfWork(engine),
        [
            factories.purchase("p1", customer_id=keep),
            factories.purchase("p2", customer_id=dup),
        ],
        now=now,
    )

    service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)

    with engine.connect() as conn:
        kept = conn.execute(select(customers).where(customers.c.id == keep)).one()
        gone = conn.execute(select(customers).where(customers.c.id == dup)).one()
        types = list(conn.scalars(select(events.c.type).where(events.c.customer_id == keep)))
    assert types.count("purchase") == 2 and "merged" in types
    assert kept.email == "ana@example.com" and kept.purchase_count == 2
    assert (gone.status, gone.merged_into_id) == ("merged", keep)
    later = ingest_events(UnitOfWork(engine), [factories.purchase("p3", customer_id=dup)], now=now)
    assert later.results[0].status == "created"
    with engine.connect() as conn:
        owner = conn.scalar(select(events.c.customer_id).where(events.c.external_id == "p3"))
    assert owner == keep


def test_merging_duplicates_brings_the_duplicates_loyalty_points_along(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    load(engine, now, program_text("cafe", **{"  welcome_bonus: 25": "  welcome_bonus: 0"}))
    keep = factories.customer(engine, now, card_number="K-100")
    dup = factories.customer(engine, now, card_number="D-100")
    cake = [{"sku": "cake", "category": "food", "unit_price": 1000}]
    ingest_events(
        UnitOfWork(engine),
        [
            factories.purchase("p1", customer_id=keep, location="CAFE-LIS", lines=cake),
            factories.purchase("p2", customer_id=dup, location="CAFE-LIS", lines=cake),
        ],
        now=now,
    )
    points = balance(engine, keep)[1] + balance(engine, dup)[1]
    assert points > 0

    service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)

    assert balance(engine, keep) == (0, points)
    assert balance(engine, dup) == (0, 0)
    assert ledger_sums_match(engine)


def test_a_spouse_gets_a_household_and_her_own_car(engine: Engine, now: datetime) -> None:
    cid = factories.customer(engine, now, last_name="Walker")
    service.add_household_member(
        UnitOfWork(engine),
        CLI,
        cid,
        {"name": "Angela", "relation": "spouse", "birthday": "1961-06-02"},
        now=now,
    )
    asset_id = service.add_asset(
        UnitOfWork(engine),
        CLI,
        cid,
        {
            "kind": "car",
            "label": "2023 VW ID.4",
            "model_code": "VW-ID4-2023",
            "member_name": "Angela",
            "details": {"vin": "WVGZZZE2ZPP000001", "year": 2023},
        },
        now=now,
    )
    with engine.connect() as conn:
        member = conn.execute(select(household_members)).one()
    assert member.name == "Angela" and member.birthday_key == 602
    assert asset_id > 0
    with pytest.raises(InvalidInput, match="no such household member"):
        service.add_asset(
            UnitOfWork(engine),
            CLI,
            cid,
            {"kind": "car", "label": "x", "member_name": "Nobody"},
            now=now,
        )


def test_only_an_owner_opens_a_location_and_only_a_manager_adds_staff(
    engine: Engine, now: datetime
) -> None:
    lisbon = factories.location(engine, now)
    manager = Actor(kind="staff", id=1, role=Role.manager, locations=frozenset({lisbon}))
    barista = Actor(kind="staff", id=2, role=Role.staff, locations=frozenset({lisbon}))
    place = {"code": "CAFE-OPO", "name": "Porto", "timezone": "Europe/Lisbon"}
    person = {"email": "new@example.com", "name": "New", "role": "staff", "locations": ["CAFE-LIS"]}

    with pytest.raises(Forbidden):
        service.create_location(UnitOfWork(engine), manager, place, now=now)
    with pytest.raises(Forbidden):
        service.create_staff(UnitOfWork(engine), barista, person, now=now)

    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(locations)) == 1
        assert conn.scalar(select(func.count()).select_from(staff)) == 0


def test_a_card_number_taken_between_check_and_write_is_a_conflict_not_a_crash(
    engine: Engine, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    factories.customer(engine, now, card_number="C-100")
    other = factories.customer(engine, now, card_number="C-200")
    monkeypatch.setattr(service, "_check_unique_card", lambda *args: None)  # the race

    with pytest.raises(Conflict) as caught:
        factories.customer(engine, now, card_number="C-100", first_name="Bea")
    assert caught.value.field == "card_number"
    with pytest.raises(Conflict):
        service.update_customer(UnitOfWork(engine), CLI, other, {"card_number": "C-100"}, now=now)

    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(customers)) == 2


def test_a_till_scanning_a_merged_duplicates_old_card_reaches_the_kept_customer(
    engine: Engine, now: datetime
) -> None:
    keep = factories.customer(engine, now, card_number="K-100")
    dup = factories.customer(engine, now, card_number="D-100")
    service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)

    report = ingest_events(
        UnitOfWork(engine), [factories.purchase("p9", card_number=" d-100 ")], now=now
    )

    assert report.results[0].status == "created"
    with engine.connect() as conn:
        owner = conn.scalar(select(events.c.customer_id).where(events.c.external_id == "p9"))
    assert owner == keep
