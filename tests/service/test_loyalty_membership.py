"""Membership: opting in one by one or by the pile of forms, and the double-points day."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI
from regulars.domain.errors import Conflict, InvalidInput, RegularsError
from regulars.services import loyalty
from regulars.services.customers import merge_customers
from regulars.store.loyalty_tables import loyalty_members
from regulars.store.tables import audit_log, events
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import ingest, ledger_sums_match, load, program_text


def _members(engine: Engine) -> dict[int, tuple[str, datetime]]:
    with engine.connect() as conn:
        return {
            int(cid): (str(how), at)
            for cid, how, at in conn.execute(
                select(
                    loyalty_members.c.customer_id,
                    loyalty_members.c.enrolled_how,
                    loyalty_members.c.enrolled_at,
                )
            )
        }


def test_a_pile_of_sign_up_forms_enrols_each_customer_from_the_day_they_signed(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    load(engine, now, program_text("dealership"))
    people = [factories.customer(engine, now, first_name=f"C{n}") for n in range(3)]
    already = people[0]
    loyalty.enrol(UnitOfWork(engine), CLI, already, "dealership", now=now)
    signed = [(cid, now - timedelta(days=10 * n)) for n, cid in enumerate(people)]

    fresh = loyalty.enrol_many(UnitOfWork(engine), CLI, "dealership", signed, now=now)

    assert fresh == 2
    members = _members(engine)
    assert {cid: how for cid, (how, _) in members.items()} == dict.fromkeys(people, "opt_in")
    assert members[people[2]][1] == now - timedelta(days=20)
    with engine.connect() as conn:
        enrolled = conn.scalar(
            select(func.count()).select_from(events).where(events.c.type == "tier")
        )
        audited = conn.scalar(
            select(func.count()).select_from(audit_log).where(audit_log.c.action == "loyalty.enrol")
        )
    assert enrolled == 3  # one "enrolled" event each, the earlier member's included
    assert audited == 3
    assert ledger_sums_match(engine)


def test_a_pile_with_an_unknown_or_merged_customer_enrols_nobody_and_names_them(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    load(engine, now, program_text("dealership"))
    keep = factories.customer(engine, now, first_name="Keep")
    gone = factories.customer(engine, now, first_name="Gone")
    merge_customers(UnitOfWork(engine), CLI, keep, gone, now=now)

    with pytest.raises(InvalidInput) as refused:
        loyalty.enrol_many(
            UnitOfWork(engine), CLI, "dealership", [(keep, now), (gone, now), (999, now)], now=now
        )

    assert refused.value.problems[0].field == "customer_id"
    assert str(gone) in refused.value.problems[0].message
    assert "999" in refused.value.problems[0].message
    assert _members(engine) == {}


def test_a_merged_duplicate_cannot_be_enrolled_on_its_own(engine: Engine, now: datetime) -> None:
    """Its points would count in the liability where nobody ever sees them."""
    factories.location(engine, now)
    load(engine, now, program_text("dealership"))
    keep = factories.customer(engine, now, first_name="Keep")
    gone = factories.customer(engine, now, first_name="Gone")
    merge_customers(UnitOfWork(engine), CLI, keep, gone, now=now)

    with pytest.raises(Conflict):
        loyalty.enrol(UnitOfWork(engine), CLI, gone, "dealership", now=now)

    assert _members(engine) == {}


def test_two_tills_opting_the_same_customer_in_at_once_both_get_an_answer(
    engine: Engine, now: datetime
) -> None:
    """On PostgreSQL the second waits on the unique key; it must hear 'already a member'."""
    factories.location(engine, now)
    load(engine, now, program_text("dealership"))
    for n in range(6):
        cid = factories.customer(engine, now, first_name=f"C{n}")
        start = threading.Barrier(2)
        answers: list[object] = []

        def opt_in(
            customer_id: int = cid, gate: threading.Barrier = start, said: list[object] = answers
        ) -> None:
            gate.wait()
            try:
                said.append(
                    loyalty.enrol(UnitOfWork(engine), CLI, customer_id, "dealership", now=now)
                )
            except RegularsError as error:
                said.append(error)
            except Exception as error:
                said.append(f"server error: {type(error).__name__}")

        tills = [threading.Thread(target=opt_in) for _ in range(2)]
        for till in tills:
            till.start()
        for till in tills:
            till.join()

        assert sorted(answers, key=str) == [False, True], answers
    assert len(_members(engine)) == 6


def _cafe_member(engine: Engine, now: datetime) -> int:
    factories.location(engine, now)
    cid = factories.customer(engine, now)
    load(engine, now, program_text("cafe"))
    ingest(engine, now, factories.purchase("p1", customer_id=cid, location="CAFE-LIS"))
    return cid


def test_a_member_cannot_get_two_double_points_days_in_one_month(
    engine: Engine, now: datetime
) -> None:
    cid = _cafe_member(engine, now)

    def choose(day: date, at: datetime) -> None:
        loyalty.choose_double_points_day(UnitOfWork(engine), CLI, cid, "cafe", day, now=at)

    choose(date(2026, 5, 5), datetime(2026, 5, 1, 9, tzinfo=UTC))
    after_it = datetime(2026, 5, 6, 9, tzinfo=UTC)
    choose(date(2026, 6, 3), after_it)  # June's day, chosen once May's has passed

    with pytest.raises(Conflict) as refused:
        choose(date(2026, 5, 20), after_it)  # would be May's second

    assert refused.value.field == "day"
    with pytest.raises(Conflict):
        choose(date(2026, 6, 17), after_it)  # June's day is set and still to come


def test_choosing_the_same_double_points_day_again_is_a_quiet_no_op(
    engine: Engine, now: datetime
) -> None:
    """A till that timed out and retried must not be told off for a day that is set."""
    cid = _cafe_member(engine, now)
    at = datetime(2026, 5, 1, 9, tzinfo=UTC)

    for _ in range(2):
        loyalty.choose_double_points_day(
            UnitOfWork(engine), CLI, cid, "cafe", date(2026, 5, 20), now=at
        )

    with engine.connect() as conn:
        audited = conn.scalar(
            select(func.count())
            .select_from(audit_log)
            .where(audit_log.c.action == "loyalty.double_day")
        )
    assert audited == 1


def test_points_past_their_expiry_are_not_shown_as_available_before_the_nightly_job(
    engine: Engine, now: datetime
) -> None:
    """A member must never be shown points a redemption would refuse."""
    factories.location(engine, now)
    cid = factories.customer(engine, now)
    load(engine, now, program_text("cafe"))
    # 10.00 EUR on 1 April 2025: 10 + 25 welcome points, expiring 12 months later
    old = factories.purchase(
        "old",
        customer_id=cid,
        location="CAFE-LIS",
        at="2025-04-01T10:00:00+01:00",
        lines=[{"sku": "x", "category": "drinks", "unit_price": 1000}],
    )
    ingest(engine, now, old)

    status = loyalty.member_status(UnitOfWork(engine), CLI, cid, now=now)[0]

    assert status["available_points"] == 0
    assert status["pending_points"] == 0
    assert status["expiring"] == []


def test_a_member_who_never_bought_is_told_when_idle_points_expire(
    engine: Engine, now: datetime
) -> None:
    """Under inactivity expiry, counting from enrolment when there was no activity."""
    factories.location(engine, now)
    load(engine, now, program_text("dealership"))
    cid = factories.customer(engine, now)
    joined = now - timedelta(days=30)
    loyalty.enrol(UnitOfWork(engine), CLI, cid, "dealership", now=joined)
    loyalty.adjust_points(UnitOfWork(engine), CLI, cid, "dealership", 500, "welcome", now=joined)
    with engine.begin() as conn:  # a manual adjustment is not activity of the member's
        conn.execute(loyalty_members.update().values(last_activity_at=None))

    status = loyalty.member_status(UnitOfWork(engine), CLI, cid, now=now)[0]
    three_years_on = loyalty.member_status(
        UnitOfWork(engine), CLI, cid, now=now + timedelta(days=3 * 365)
    )[0]

    assert status["available_points"] == 500
    (warning,) = status["expiring"]
    assert warning["points"] == 500
    assert warning["on"] > now
    assert three_years_on["available_points"] == 0


def test_a_brooklyn_member_may_still_pick_today_in_the_evening_where_she_lives(
    engine: Engine, now: datetime
) -> None:
    """20:00 on 1 May in Brooklyn is already 2 May in Lisbon, the program's home."""
    factories.location(engine, now)
    factories.location(engine, now, "CAFE-NYC", timezone="America/New_York", brand="Café Regulars")
    cid = factories.customer(engine, now, home_location="CAFE-NYC")
    load(engine, now, program_text("cafe"))
    ingest(engine, now, factories.purchase("p1", customer_id=cid, location="CAFE-NYC"))
    evening_in_brooklyn = datetime(2026, 5, 2, 0, 0, tzinfo=UTC)

    loyalty.choose_double_points_day(
        UnitOfWork(engine), CLI, cid, "cafe", date(2026, 5, 1), now=evening_in_brooklyn
    )

    with pytest.raises(InvalidInput) as refused:  # yesterday is yesterday everywhere
        loyalty.choose_double_points_day(
            UnitOfWork(engine), CLI, cid, "cafe", date(2026, 4, 30), now=evening_in_brooklyn
        )
    assert refused.value.problems[0].field == "day"
