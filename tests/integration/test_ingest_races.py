"""The same event sent twice at the same moment (a till retrying): one visit, no error.

SQLite's writers queue from BEGIN; on PostgreSQL two transactions can both pass the
duplicate check before either has written, and the later insert loses the race.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI
from regulars.services.checkin import check_in
from regulars.services.ingest import ingest_events
from regulars.store.tables import events
from regulars.store.uow import UnitOfWork
from tests import factories


def _at_once(work: Callable[[], Any], n: int = 2) -> list[Any]:
    gate = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        gate.wait()
        try:
            results[i] = work()
        except Exception as error:
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _visits(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(select(func.count()).select_from(events).where(events.c.type == "visit"))
            or 0
        )


def test_a_check_in_retried_while_the_first_is_running_records_one_visit_and_answers_both(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, code="CAFE-LIS")
    cid = factories.customer(engine, now, home_location="CAFE-LIS")

    for n in range(5):
        body = {"customer_id": cid, "location": "CAFE-LIS", "request_id": f"till-{n}"}
        answers = _at_once(lambda body=body: check_in(UnitOfWork(engine), CLI, body, now=now))

        assert not [a for a in answers if isinstance(a, Exception)], answers
        assert sorted(a["duplicate"] for a in answers) == [False, True]
        assert answers[0]["checkin_id"] == answers[1]["checkin_id"]
    assert _visits(engine) == 5


def test_a_batch_that_loses_a_race_for_one_event_writes_the_rest(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, code="CAFE-LIS")
    cid = factories.customer(engine, now, home_location="CAFE-LIS")
    shared = factories.purchase("shared", customer_id=cid, location="CAFE-LIS")
    mine = [shared] + [
        factories.purchase(f"own-{n}", customer_id=cid, location="CAFE-LIS") for n in range(3)
    ]

    reports = _at_once(lambda: ingest_events(UnitOfWork(engine), mine, now=now))

    assert not [r for r in reports if isinstance(r, Exception)], reports
    assert sorted(r.created for r in reports) == [0, 4]
    with engine.connect() as conn:
        purchases = conn.scalar(
            select(func.count()).select_from(events).where(events.c.type == "purchase")
        )
    assert purchases == 4
