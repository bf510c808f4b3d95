"""`regulars loyalty status` lists each expiry day once, with all the points going that day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine

from regulars.domain.access import CLI
from regulars.services import loyalty
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import ingest, load, program_text


def test_two_purchases_on_one_day_expire_as_one_line_for_that_day(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    load(engine, now, program_text("cafe"))
    cid = factories.customer(engine, now)
    same_day = (("morning", "2026-04-20T08:10:00+01:00"), ("noon", "2026-04-20T12:45:00+01:00"))
    for key, at in same_day:
        ingest(
            engine,
            now,
            factories.purchase(
                key,
                customer_id=cid,
                location="CAFE-LIS",
                at=at,
                lines=[{"sku": "x", "category": "drinks", "unit_price": 1000}],
            ),
        )

    (status,) = loyalty.member_status(UnitOfWork(engine), CLI, cid, now=now)

    days = [item["on"].date() for item in status["expiring"]]
    assert days == [date(2027, 4, 20)]
    assert status["expiring"][0]["points"] == status["available_points"] + status["pending_points"]
    assert status["expiring"][0]["on"] == datetime.fromisoformat("2027-04-20T08:10:00+01:00")
