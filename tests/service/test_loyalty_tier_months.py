"""Tier windows count in the program's own time zone, wherever the purchase happened."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from regulars.store.loyalty_tables import loyalty_qualifying
from tests import factories
from tests.loyalty_support import ingest, ledger_sums_match, load, program_text


def _months(engine: Engine) -> dict[int, int]:
    q = loyalty_qualifying.c
    with engine.connect() as conn:
        return {int(month): int(spend) for month, spend in conn.execute(select(q.month, q.spend))}


def test_a_late_evening_purchase_in_new_york_and_its_return_land_in_the_same_month(
    engine: Engine, now: datetime
) -> None:
    """21:00 on 31 May in New York is already June in Lisbon, the café program's zone: the
    purchase and its return must count in one month, or May keeps spend that came back."""
    factories.location(engine, now, "CAFE-LIS")
    factories.location(engine, now, "CAFE-NYC", timezone="America/New_York", brand="Café Regulars")
    load(engine, now, program_text("cafe"))
    cid = factories.customer(engine, now, home_location="CAFE-NYC")
    ingest(
        engine,
        now,
        factories.purchase(
            "p1",
            customer_id=cid,
            location="CAFE-NYC",
            at="2026-05-31T21:00:00-04:00",
            lines=[{"sku": "beans", "category": "retail", "unit_price": 1890}],
        ),
    )
    assert _months(engine) == {202606: 1890}

    ingest(
        engine,
        now,
        factories.purchase_return(
            "r1",
            lines=[{"sku": "beans", "quantity": 1}],
            at="2026-06-01T10:00:00-04:00",
            customer_id=cid,
            location="CAFE-NYC",
        ),
    )

    assert _months(engine) == {202606: 0}
    assert ledger_sums_match(engine)
