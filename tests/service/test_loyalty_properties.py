"""Ledger properties over real databases: whatever arrives, the books balance."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from regulars.domain.access import CLI
from regulars.domain.errors import InvalidInput
from regulars.services.loyalty_jobs import expire_points
from regulars.services.redeem import redeem
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import balance, ingest, ledger_sums_match, load, program_text

_serial = itertools.count(1)
SKUS = {"latte": "drinks", "beans": "retail", "fee": "fees", "cake": "food"}
LINE = st.tuples(
    st.sampled_from(sorted(SKUS)), st.integers(1, 3), st.integers(50, 5000), st.integers(0, 100)
)
PURCHASE = st.lists(LINE, min_size=1, max_size=4, unique_by=lambda line: line[0])
SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _setup(engine: Engine, now: datetime) -> None:
    if not hasattr(engine, "_loyalty_ready"):
        factories.location(engine, now, "CAFE-LIS")
        load(engine, now, program_text("cafe", **{"  pending_days: 7": "  pending_days: 2"}))
        engine._loyalty_ready = True  # type: ignore[attr-defined]


def _purchase(tag: str, cid: int, lines: list[tuple[str, int, int, int]], at: datetime) -> dict:
    return factories.purchase(
        tag,
        customer_id=cid,
        location="CAFE-LIS",
        at=at.isoformat(),
        lines=[
            {
                "sku": sku,
                "category": SKUS[sku],
                "quantity": q,
                "unit_price": price,
                "discount": min(discount, q * price),
            }
            for sku, q, price, discount in lines
        ],
    )


@SETTINGS
@given(purchases=st.lists(PURCHASE, min_size=1, max_size=4), returns=st.data())
def test_the_balance_always_equals_the_ledger_and_never_goes_negative(
    engine: Engine, now: datetime, purchases: list, returns: st.DataObject
) -> None:
    _setup(engine, now)
    n = next(_serial)
    cid = factories.customer(engine, now, first_name=f"P{n}")
    at = now
    for index, lines in enumerate(purchases):
        at += timedelta(hours=5)
        ingest(engine, at, _purchase(f"h{n}-{index}", cid, lines, at))
        assert ledger_sums_match(engine)
        if returns.draw(st.booleans()):
            sku, quantity, _, _ = returns.draw(st.sampled_from(lines))
            back = returns.draw(st.integers(1, quantity))
            ingest(
                engine,
                at,
                {
                    "type": "return",
                    "source": "pos",
                    "external_id": f"h{n}-{index}-r",
                    "customer_id": cid,
                    "occurred_at": at.isoformat(),
                    "purchase_external_id": f"h{n}-{index}",
                    "lines": [{"sku": sku, "quantity": back}],
                },
            )
            assert ledger_sums_match(engine)
        if returns.draw(st.booleans()):
            expire_points(UnitOfWork(engine), CLI, now=at + timedelta(days=3))
            try:
                redeem(UnitOfWork(engine), CLI, cid, "pastry", now=at + timedelta(days=3))
            except InvalidInput as error:  # refusing is fine, overdrawing is not
                assert "needs 25 points" in str(error)
            assert ledger_sums_match(engine)
    available, pending = balance(engine, cid)
    assert available >= 0 and pending >= 0


@SETTINGS
@given(first=PURCHASE, second=PURCHASE)
def test_returning_a_whole_purchase_restores_the_balance_before_it(
    engine: Engine, now: datetime, first: list, second: list
) -> None:
    _setup(engine, now)
    n = next(_serial)
    cid = factories.customer(engine, now, first_name=f"R{n}")
    ingest(engine, now, _purchase(f"a{n}", cid, first, now))
    before = balance(engine, cid)
    later = now + timedelta(hours=1)
    ingest(engine, later, _purchase(f"b{n}", cid, second, later))

    ingest(
        engine,
        later,
        {
            "type": "return",
            "source": "pos",
            "external_id": f"b{n}-r",
            "customer_id": cid,
            "occurred_at": later.isoformat(),
            "purchase_external_id": f"b{n}",
            "lines": [{"sku": sku, "quantity": q} for sku, q, _, _ in second],
        },
    )

    assert balance(engine, cid) == before
    assert ledger_sums_match(engine)


@SETTINGS
@given(lines=PURCHASE)
def test_ingesting_an_event_twice_changes_nothing(
    engine: Engine, now: datetime, lines: list
) -> None:
    _setup(engine, now)
    n = next(_serial)
    cid = factories.customer(engine, now, first_name=f"D{n}")
    event = _purchase(f"d{n}", cid, lines, now)
    ingest(engine, now, event)
    once = balance(engine, cid)

    ingest(engine, now, event)
    ingest(engine, now, event, event)

    assert balance(engine, cid) == once
