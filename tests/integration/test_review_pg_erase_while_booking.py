"""Erasing a customer while staff book goodwill for them leaves none of the words behind.

The manager erases a customer at her request while a clerk, at the same moment, grants her
goodwill with a reason that quotes her. Each grant either goes before the erasure (and is
blanked by it) or comes after (and is refused, 409): a grant committed halfway through the
erasure must not keep her words on a profile that was erased.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy import Engine, select

from regulars.domain.access import CLI
from regulars.domain.errors import Conflict
from regulars.services.goodwill import grant_goodwill
from regulars.services.privacy import erase_customer
from regulars.store.audit import audit_log
from regulars.store.loyalty_tables import loyalty_goodwill, loyalty_ledger
from regulars.store.tables import events
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import ingest, load, program_text

GRANTS = 20
WORDS = "her divorce came through"


def test_goodwill_granted_while_the_customer_is_erased_keeps_none_of_her_words(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, "CAFE-LIS")
    load(engine, now, program_text("cafe"))
    cid = factories.customer(engine, now)
    ingest(engine, now, factories.purchase("p1", customer_id=cid, location="CAFE-LIS"))
    start = threading.Barrier(GRANTS + 1)
    outcomes: list[object] = []

    def grant(n: int) -> None:
        start.wait()
        time.sleep(0.01 * n)
        try:
            outcomes.append(grant_goodwill(UnitOfWork(engine), CLI, cid, 10, f"{WORDS} {n}", now))
        except Exception as error:  # reported below
            outcomes.append(error)

    def erase() -> None:
        start.wait()
        time.sleep(0.01)
        try:
            erase_customer(UnitOfWork(engine), CLI, cid, now=now, confirm=True)
            outcomes.append("erased")
        except Exception as error:  # reported below
            outcomes.append(error)

    threads = [threading.Thread(target=grant, args=(n,)) for n in range(GRANTS)]
    threads.append(threading.Thread(target=erase))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert "erased" in outcomes
    assert all(isinstance(o, (dict, Conflict, str)) for o in outcomes), outcomes
    with engine.connect() as conn:
        kept = [
            str(row)
            for table in (events, loyalty_goodwill, loyalty_ledger, audit_log)
            for row in conn.execute(select(table))
            if "divorce" in str(row)
        ]
    assert kept == []
