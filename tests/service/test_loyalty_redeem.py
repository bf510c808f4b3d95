"""Redeeming rewards: never more than the balance, only what the tier allows, nothing half-done."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI
from regulars.domain.errors import Conflict, InvalidInput
from regulars.services import customers as customer_service
from regulars.services.privacy import erase_customer
from regulars.services.redeem import redeem
from regulars.store.loyalty_tables import loyalty_ledger, loyalty_redemptions
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import (
    balance,
    cafe_member,
    entries,
    ingest,
    ledger_sums_match,
    load,
    open_cafe,
    program_text,
)

LIS = "CAFE-LIS"
GOLD_LINE = "      threshold: 20000           # 200.00 EUR in the last 12 months"


def _member_with(engine: Engine, now: datetime, euros: int, **changes: str) -> int:
    open_cafe(
        engine,
        now,
        **(
            {"  cap_per_day: 200": "  cap_per_day: 100000", GOLD_LINE: "      threshold: 9000000"}
            | changes
        ),
    )
    return cafe_member(engine, now, euros * 100)


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def test_redeeming_a_reward_spends_its_points_and_says_what_is_left(
    engine: Engine, now: datetime
) -> None:
    cid = _member_with(engine, now, 100)

    answer = redeem(UnitOfWork(engine), CLI, cid, "free-drink", now=now)

    assert answer["points"] == 35
    assert answer["available_points"] == 100 - 35
    assert balance(engine, cid) == (65, 0)
    assert ledger_sums_match(engine)


def test_redeeming_more_than_the_balance_is_refused_and_writes_nothing(
    engine: Engine, now: datetime
) -> None:
    cid = _member_with(engine, now, 30)
    before = _count(engine, loyalty_ledger)

    with pytest.raises(InvalidInput) as refused:
        redeem(UnitOfWork(engine), CLI, cid, "free-drink", now=now)

    assert refused.value.problems[0].field == "reward"
    assert "needs 35 points; 30 are available" in refused.value.message
    assert _count(engine, loyalty_ledger) == before
    assert _count(engine, loyalty_redemptions) == 0


def test_an_unknown_reward_is_refused_by_name(engine: Engine, now: datetime) -> None:
    cid = _member_with(engine, now, 100)

    with pytest.raises(InvalidInput, match="no reward 'caviar'"):
        redeem(UnitOfWork(engine), CLI, cid, "caviar", now=now)


def test_a_gold_reward_is_refused_to_a_member_below_gold(engine: Engine, now: datetime) -> None:
    cid = _member_with(engine, now, 200)

    with pytest.raises(InvalidInput, match="for Gold members and above"):
        redeem(UnitOfWork(engine), CLI, cid, "beans", now=now)
    assert balance(engine, cid) == (200, 0)


def test_the_per_member_limit_and_stock_are_kept(engine: Engine, now: datetime) -> None:
    cid = _member_with(
        engine, now, 500, **{"    min_tier: gold\n": "", "    stock: 100": "    stock: 3"}
    )

    redeem(UnitOfWork(engine), CLI, cid, "beans", now=now)
    redeem(UnitOfWork(engine), CLI, cid, "beans", now=now)
    with pytest.raises(InvalidInput, match="2 time"):
        redeem(UnitOfWork(engine), CLI, cid, "beans", now=now)

    other = factories.customer(engine, now, first_name="Rui")
    ingest(
        engine,
        now,
        factories.purchase(
            "p2",
            customer_id=other,
            location=LIS,
            lines=[{"sku": "cake", "category": "food", "unit_price": 10000}],
        ),
    )
    redeem(UnitOfWork(engine), CLI, other, "beans", now=now)
    with pytest.raises(InvalidInput, match="out of stock"):
        redeem(UnitOfWork(engine), CLI, other, "beans", now=now)


def test_redemption_spends_the_points_nearest_to_expiry_first(
    engine: Engine, now: datetime
) -> None:
    cid = _member_with(engine, now, 30)  # earned 30 Apr 2026, expires 30 Apr 2027
    later = now + timedelta(days=100)
    ingest(
        engine,
        later,
        factories.purchase(
            "p2",
            customer_id=cid,
            location=LIS,
            at=later.isoformat(),
            lines=[{"sku": "cake", "category": "food", "unit_price": 30000}],
        ),
    )

    redeem(UnitOfWork(engine), CLI, cid, "pastry", now=later)

    lots = entries(engine, "earn")
    assert [lot["lot_remaining"] for lot in lots] == [5, 300 + 10]  # + the 2nd-purchase bonus
    assert ledger_sums_match(engine)


def test_pending_points_cannot_be_spent_until_the_return_window_is_over(
    engine: Engine, now: datetime
) -> None:
    cid = _member_with(engine, now, 100)
    # Reload the program with its return window of 7 days.
    load(engine, now, program_text("cafe", **{"  welcome_bonus: 25": "  welcome_bonus: 0"}))
    ingest(
        engine,
        now,
        factories.purchase(
            "p9",
            customer_id=cid,
            location=LIS,
            lines=[{"sku": "cake", "category": "food", "unit_price": 500}],
        ),
    )
    assert balance(engine, cid) == (100, 5 + 10)  # + the 2nd-purchase bonus

    redeem(UnitOfWork(engine), CLI, cid, "free-drink", now=now)
    redeem(UnitOfWork(engine), CLI, cid, "free-drink", now=now)
    with pytest.raises(InvalidInput):
        redeem(UnitOfWork(engine), CLI, cid, "free-drink", now=now)

    redeem(UnitOfWork(engine), CLI, cid, "pastry", now=now + timedelta(days=8))
    assert balance(engine, cid) == (30 + 15 - 25, 0)
    assert ledger_sums_match(engine)


def test_points_whose_return_window_just_ended_can_be_spent_before_the_nightly_job(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, LIS)
    load(engine, now, program_text("cafe", **{"  welcome_bonus: 25": "  welcome_bonus: 0"}))
    cid = factories.customer(engine, now)
    ingest(
        engine,
        now,
        factories.purchase(
            "p1",
            customer_id=cid,
            location=LIS,
            lines=[{"sku": "cake", "category": "food", "unit_price": 5000}],
        ),
    )
    assert balance(engine, cid) == (0, 50)

    answer = redeem(UnitOfWork(engine), CLI, cid, "free-drink", now=now + timedelta(days=8))

    assert answer["available_points"] == 15
    assert balance(engine, cid) == (15, 0)
    assert ledger_sums_match(engine)


def test_points_past_their_expiry_cannot_be_spent_even_before_the_nightly_job(
    engine: Engine, now: datetime
) -> None:
    cid = _member_with(engine, now, 30)  # earned 30 Apr 2026, expires 30 Apr 2027
    april = datetime.fromisoformat("2027-04-01T10:00:00+00:00")
    ingest(
        engine,
        april,
        factories.purchase(
            "p2",
            customer_id=cid,
            location=LIS,
            at=april.isoformat(),
            lines=[{"sku": "cake", "category": "food", "unit_price": 5000}],
        ),
    )
    assert balance(engine, cid) == (30 + 50 + 10, 0)  # + the 2nd-purchase bonus
    may = datetime.fromisoformat("2027-05-02T10:00:00+00:00")  # the expiry job has not run

    answer = redeem(UnitOfWork(engine), CLI, cid, "free-drink", now=may)
    with pytest.raises(InvalidInput, match="needs 35 points; 25 are available"):
        redeem(UnitOfWork(engine), CLI, cid, "free-drink", now=may)

    assert answer["available_points"] == 60 - 35
    assert balance(engine, cid) == (25, 0)
    assert [e["available_delta"] for e in entries(engine, "expire")] == [-30]
    assert ledger_sums_match(engine)


def test_a_reward_two_programs_offer_is_redeemed_in_the_one_the_customer_belongs_to(
    engine: Engine, now: datetime
) -> None:
    cid = _member_with(engine, now, 100)  # a member of the café program
    bakery = program_text(
        "cafe", **{"code: cafe": "code: bakery", "enrolment: auto": "enrolment: opt_in"}
    )
    load(engine, now, bakery)  # also offers a free drink; the customer never joined it

    answer = redeem(UnitOfWork(engine), CLI, cid, "free-drink", now=now)

    assert answer["program"] == "cafe"
    assert balance(engine, cid) == (100 - 35, 0)


def test_a_merged_duplicate_or_an_erased_customer_cannot_redeem(
    engine: Engine, now: datetime
) -> None:
    keep = _member_with(engine, now, 100)
    dup = factories.customer(engine, now, first_name="Ana (dup)")
    ingest(
        engine,
        now,
        factories.purchase(
            "d1",
            customer_id=dup,
            location=LIS,
            lines=[{"sku": "cake", "category": "food", "unit_price": 5000}],
        ),
    )
    customer_service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)
    erased = factories.customer(engine, now, first_name="Rui")
    ingest(
        engine,
        now,
        factories.purchase(
            "e1",
            customer_id=erased,
            location=LIS,
            lines=[{"sku": "cake", "category": "food", "unit_price": 5000}],
        ),
    )
    erase_customer(UnitOfWork(engine), CLI, erased, now=now, confirm=True)
    before = _count(engine, loyalty_ledger)

    for cid, why in ((dup, "merged into another"), (erased, "erased")):
        with pytest.raises(Conflict, match=why) as refused:
            redeem(UnitOfWork(engine), CLI, cid, "free-drink", now=now)
        assert refused.value.field == "customer_id"

    assert _count(engine, loyalty_ledger) == before
    assert _count(engine, loyalty_redemptions) == 0
