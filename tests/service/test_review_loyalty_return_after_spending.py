"""A return whose purchase's points were partly spent takes the rest from other points once.

Found racing returns against redemptions on PostgreSQL, but it happens one after the other
too: the return took what was left of the purchase's lot and then, for the remainder,
counted that same lot again at its stored size, so it took the points twice. The till's
return then failed with a server error (the balance would go below zero), or the lot and
the balance disagreed for good.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from regulars.domain.access import CLI
from regulars.services.redeem import redeem
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import LIS, balance, cakes, entries, ingest, ledger_sums_match, open_cafe


def test_returning_a_purchase_whose_points_were_spent_takes_each_point_back_once(
    engine: Engine, now: datetime
) -> None:
    open_cafe(
        engine,
        now,
        **{
            "  purchase_bonuses:": "  purchase_bonuses: {}",
            "    2: 10": "",
            "    3: 20": "",
            "    5: 50": "",
        },
    )
    cid = factories.customer(engine, now)
    ingest(engine, now, cakes("older", cid, now - timedelta(days=40), 4))  # 40 points
    ingest(engine, now, cakes("newer", cid, now - timedelta(days=1), 4))  # 40 points
    assert balance(engine, cid) == (80, 0)
    redeem(UnitOfWork(engine), CLI, cid, "free-drink", now=now)  # 35 from "older"
    redeem(UnitOfWork(engine), CLI, cid, "free-drink", now=now)  # 5 + 30 from "newer"
    assert balance(engine, cid) == (10, 0)

    report = ingest(
        engine,
        now,
        factories.purchase_return(
            "back",
            of="newer",
            lines=[{"sku": "cake", "quantity": 2}],
            at=now.isoformat(),
            customer_id=cid,
            location=LIS,
        ),
    )

    assert report.created == 1
    assert balance(engine, cid) == (0, 0)  # 20 back: the 10 left of "newer", 10 from elsewhere
    assert sum(e["available_delta"] for e in entries(engine, "reverse")) == -10
    assert ledger_sums_match(engine)
