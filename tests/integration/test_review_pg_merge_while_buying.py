"""Merging two profiles while the till still sends purchases for the duplicate loses nothing.

A clerk merges "Ana Silva" (a duplicate made at another till) into the real profile while
the duplicate's card is being used: every purchase must end on the kept timeline with its
points on the kept membership, whichever transaction commits first.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI
from regulars.domain.errors import Conflict
from regulars.services.customers import merge_customers
from regulars.services.goodwill import grant_goodwill
from regulars.services.ingest import append_events, ingest_events
from regulars.store.loyalty_tables import loyalty_members
from regulars.store.tables import events
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import entries, ingest, ledger_sums_match, open_cafe
from tests.races import someone_waits_on_a_lock

PURCHASES = 20


def _setup(engine: Engine, now: datetime) -> tuple[int, int]:
    open_cafe(engine, now)
    keep = factories.customer(engine, now)
    dup = factories.customer(engine, now, email="ana@example.com")
    for n, cid in enumerate((keep, dup)):
        ingest(engine, now, factories.purchase(f"first-{n}", customer_id=cid, location="CAFE-LIS"))
    return keep, dup


def _everything_is_on(engine: Engine, keep: int, purchases: int) -> None:
    """Every purchase on the kept timeline, earned once, on the one kept membership."""
    with engine.connect() as conn:
        owners = dict(
            conn.execute(
                select(events.c.customer_id, func.count())
                .where(events.c.type == "purchase")
                .group_by(events.c.customer_id)
            ).all()
        )
        members = (
            conn.execute(
                select(loyalty_members.c.customer_id).where(loyalty_members.c.program == "cafe")
            )
            .scalars()
            .all()
        )
    assert set(owners) == {keep}, owners
    assert members == [keep]
    assert owners[keep] == purchases
    assert len(entries(engine, "earn")) == purchases
    assert ledger_sums_match(engine)


def test_a_merge_started_while_a_purchase_is_being_booked_takes_that_purchase_along(
    engine: Engine, now: datetime
) -> None:
    keep, dup = _setup(engine, now)
    till = UnitOfWork(engine)
    with till:
        append_events(
            till.conn,
            [factories.purchase("during", customer_id=dup, location="CAFE-LIS")],
            now=now,
        )
        merging = threading.Thread(
            target=merge_customers, args=(UnitOfWork(engine), CLI, keep, dup), kwargs={"now": now}
        )
        merging.start()
        deadline = time.monotonic() + 10
        while not someone_waits_on_a_lock(engine) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        till.commit()
    merging.join(timeout=30)

    _everything_is_on(engine, keep, 3)


def test_purchases_arriving_for_the_duplicate_during_a_merge_all_land_on_the_kept_profile(
    engine: Engine, now: datetime
) -> None:
    keep, dup = _setup(engine, now)
    start = threading.Barrier(PURCHASES + 1)
    errors: list[BaseException] = []

    def till(n: int) -> None:
        start.wait()
        time.sleep(0.002 * n)
        try:
            ingest_events(
                UnitOfWork(engine),
                [factories.purchase(f"race-{n}", customer_id=dup, location="CAFE-LIS")],
                now=now,
            )
        except BaseException as error:  # reported below
            errors.append(error)

    def merge() -> None:
        start.wait()
        time.sleep(0.02)
        try:
            merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=till, args=(n,)) for n in range(PURCHASES)]
    threads.append(threading.Thread(target=merge))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    _everything_is_on(engine, keep, PURCHASES + 2)


def test_goodwill_granted_to_the_duplicate_during_a_merge_ends_on_the_kept_membership(
    engine: Engine, now: datetime
) -> None:
    """Goodwill booked as the clerk merges lands on the kept profile or is refused (409)."""
    keep, dup = _setup(engine, now)
    start = threading.Barrier(PURCHASES + 1)
    outcomes: list[object] = []

    def grant(n: int) -> None:
        start.wait()
        time.sleep(0.01 * n)
        try:
            outcomes.append(grant_goodwill(UnitOfWork(engine), CLI, dup, 40, f"sorry {n}", now))
        except Exception as error:  # reported below
            outcomes.append(error)

    def merge() -> None:
        start.wait()
        time.sleep(0.01)
        try:
            merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)
            outcomes.append("merged")
        except Exception as error:  # reported below
            outcomes.append(error)

    threads = [threading.Thread(target=grant, args=(n,)) for n in range(PURCHASES)]
    threads.append(threading.Thread(target=merge))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    granted = [o for o in outcomes if isinstance(o, dict)]
    assert "merged" in outcomes
    assert all(isinstance(o, (dict, Conflict, str)) for o in outcomes), outcomes
    with engine.connect() as conn:
        members = conn.execute(select(loyalty_members.c.customer_id)).scalars().all()
    assert members == [keep]
    assert sum(e["available_delta"] for e in entries(engine, "goodwill")) == 40 * len(granted)
    assert ledger_sums_match(engine)
