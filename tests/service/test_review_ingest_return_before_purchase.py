"""A return stamped a moment before its purchase (two tills' clocks apart) still takes the
purchase's points back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from tests import factories
from tests.loyalty_support import balance, ingest, ledger_sums_match, load, program_text

LIS = "CAFE-LIS"
IMMEDIATE = {"  pending_days: 7": "  pending_days: 0", "  welcome_bonus: 25": "  welcome_bonus: 0"}


def test_a_return_clocked_a_minute_before_its_purchase_in_one_batch_takes_the_points_back(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, LIS)
    load(engine, now, program_text("cafe", **IMMEDIATE))
    cid = factories.customer(engine, now)
    beans = [{"sku": "beans", "category": "retail", "unit_price": 1200}]
    purchase = factories.purchase(
        "p1", customer_id=cid, location=LIS, at="2026-04-30T10:00:00+01:00", lines=beans
    )
    back = {
        "type": "return",
        "source": "pos",
        "external_id": "r1",
        "customer_id": cid,
        "location": LIS,
        "occurred_at": "2026-04-30T09:59:00+01:00",
        "purchase_external_id": "p1",
        "lines": [{"sku": "beans", "quantity": 1}],
    }

    report = ingest(engine, now, purchase, back)

    assert report.created == 2
    assert balance(engine, cid) == (0, 0)
    assert ledger_sums_match(engine)
