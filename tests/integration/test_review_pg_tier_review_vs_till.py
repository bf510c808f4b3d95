"""The monthly tier review never demotes a member whose purchase made them Gold meanwhile.

The review runs on the 1st while the café is open. A member with 150 EUR in the last twelve
months buys 60 EUR more at 07:30 and is told at the till that they are Gold now; the review
that was running at that moment must judge them on the 210 EUR, not on the 150 it read
before the purchase committed, and so must not take Gold away again.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy import Engine, select

from regulars.domain.access import CLI
from regulars.services.ingest import append_events
from regulars.services.loyalty_jobs import review_tiers
from regulars.store.loyalty_tables import loyalty_members
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import ingest, load, program_text
from tests.races import someone_waits_on_a_lock


def _tier(engine: Engine, customer_id: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.scalar(
                select(loyalty_members.c.tier).where(loyalty_members.c.customer_id == customer_id)
            )
        )


def _cake(external_id: str, customer_id: int, at: str, cents: int) -> dict[str, object]:
    return factories.purchase(
        external_id,
        customer_id=customer_id,
        location="CAFE-LIS",
        at=at,
        lines=[{"sku": "cake", "category": "food", "unit_price": cents}],
    )


def test_a_purchase_booked_while_the_review_runs_keeps_the_gold_it_earned(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, "CAFE-LIS")
    load(engine, now, program_text("cafe"))
    cid = factories.customer(engine, now)
    ingest(engine, now, _cake("april", cid, "2026-04-10T10:00:00+01:00", 15000))
    assert _tier(engine, cid) == "member"

    till = UnitOfWork(engine)
    with till:
        append_events(till.conn, [_cake("may", cid, "2026-05-01T07:30:00+01:00", 6000)], now=now)
        review = threading.Thread(
            target=review_tiers, args=(UnitOfWork(engine), CLI), kwargs={"now": now}
        )
        review.start()
        deadline = time.monotonic() + 10
        while not someone_waits_on_a_lock(engine) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        till.commit()
    review.join(timeout=30)

    assert _tier(engine, cid) == "gold"


def test_reviews_started_together_judge_each_member_once(engine: Engine, now: datetime) -> None:
    """Two schedulers (or a cron job overlapping the last one) run the monthly review at once.

    A Gold member with 190 EUR, just short of 200, is kept Gold with grace this time; a second
    review of the same month must not count as another review and demote them straight away.
    """
    factories.location(engine, now, "CAFE-LIS")
    load(engine, now, program_text("cafe"))
    cid = factories.customer(engine, now)
    ingest(
        engine,
        now,
        _cake("last-spring", cid, "2025-04-15T10:00:00+01:00", 20000),
        _cake("last-summer", cid, "2025-06-10T10:00:00+01:00", 19000),
    )
    assert _tier(engine, cid) == "gold"
    parallel = 10
    start = threading.Barrier(parallel)
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            review_tiers(UnitOfWork(engine), CLI, now=now)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert _tier(engine, cid) == "gold"
    with engine.connect() as conn:
        counter = conn.scalar(
            select(loyalty_members.c.reviews_since_grace).where(
                loyalty_members.c.customer_id == cid
            )
        )
    assert counter == 0  # the grace was this month's one review
