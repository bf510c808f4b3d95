"""Everything that moves one member's points at once keeps the balance and the ledger agreeing.

The nightly job matures and expires points while the counter redeems, a manager corrects the
balance and the till books a return: on PostgreSQL each is its own transaction on its own
connection. The cached balance must equal the ledger afterwards, never go below zero, and
nothing may fail except with a clear 4xx answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from regulars.domain.access import CLI
from regulars.domain.errors import Conflict, InvalidInput
from regulars.services.loyalty import adjust_points, choose_double_points_day, enrol
from regulars.services.loyalty_jobs import expire_points
from regulars.services.redeem import redeem
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import LIS, balance, cakes, ingest, ledger_sums_match, open_cafe
from tests.races import at_once


def test_expiry_redemptions_adjustments_and_a_return_at_once_keep_the_books_straight(
    engine: Engine, now: datetime
) -> None:
    open_cafe(engine, now, immediate=False, **{"  welcome_bonus: 25": "  welcome_bonus: 0"})
    cid = factories.customer(engine, now)
    ingest(engine, now - timedelta(days=30), cakes("old", cid, now - timedelta(days=30), 10))
    expire_points(UnitOfWork(engine), CLI, now=now - timedelta(days=20))
    ingest(engine, now - timedelta(days=8), cakes("recent", cid, now - timedelta(days=8), 10))
    available, pending = balance(engine, cid)
    assert available > 0 and pending > 0

    calls: list[Callable[[], object]] = [
        lambda: expire_points(UnitOfWork(engine), CLI, now=now),
        lambda: ingest(
            engine,
            now,
            factories.purchase_return(
                "back",
                of="recent",
                lines=[{"sku": "cake", "quantity": 4}],
                at=now.isoformat(),
                customer_id=cid,
                location=LIS,
            ),
        ),
    ]
    calls += [lambda: redeem(UnitOfWork(engine), CLI, cid, "pastry", now=now) for _ in range(8)]
    calls += [
        lambda n=n: adjust_points(UnitOfWork(engine), CLI, cid, "cafe", -7, f"fix {n}", now=now)
        for n in range(4)
    ]
    results = at_once(calls)

    unexpected = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, InvalidInput)
    ]
    assert unexpected == []
    assert ledger_sums_match(engine)
    assert min(balance(engine, cid)) >= 0


def test_enrolment_and_the_double_points_day_chosen_at_once_enrol_once_and_pick_one_day(
    engine: Engine, now: datetime
) -> None:
    open_cafe(engine, now, immediate=False, **{"enrolment: auto": "enrolment: opt_in"})
    cid = factories.customer(engine, now)

    days = [now.date() + timedelta(days=n) for n in range(3, 8)]
    calls: list[Callable[[], object]] = [
        lambda: enrol(UnitOfWork(engine), CLI, cid, "cafe", now=now) for _ in range(10)
    ]

    def pick(day: date) -> date:
        choose_double_points_day(UnitOfWork(engine), CLI, cid, "cafe", day, now=now)
        return day

    calls += [lambda day=day: pick(day) for day in days for _ in range(2)]
    results = at_once(calls)

    unexpected = [
        r
        for r in results
        if isinstance(r, Exception) and not isinstance(r, (InvalidInput, Conflict))
    ]
    assert unexpected == []
    assert [r for r in results if r is True] == [True]
    assert len({r for r in results if isinstance(r, date)}) <= 1  # one day this month
