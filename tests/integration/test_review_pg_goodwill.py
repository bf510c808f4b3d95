"""Goodwill on PostgreSQL: parallel grants cannot split a limit, a request is approved once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from regulars.domain.errors import Conflict
from regulars.services.goodwill import approve_goodwill, grant_goodwill
from regulars.store.uow import UnitOfWork
from tests.loyalty_support import balance, entries, ledger_sums_match
from tests.races import at_once
from tests.service.test_loyalty_goodwill_and_jobs import BARISTA, MANAGER, _member

PARALLEL = 20


def test_twenty_taps_at_once_grant_no_more_than_the_baristas_daily_limit(
    engine: Engine, now: datetime
) -> None:
    cid = _member(engine, now)
    before = balance(engine, cid)[0]

    results = at_once(
        [
            lambda n=n: grant_goodwill(UnitOfWork(engine), BARISTA, cid, 30, f"spill {n}", now)
            for n in range(PARALLEL)
        ]
    )

    statuses = [r["status"] for r in results if isinstance(r, dict)]
    assert len(statuses) == PARALLEL, results
    assert statuses.count("granted") == 3  # 3 x 30 within the limit of 100
    assert balance(engine, cid)[0] == before + 90
    assert ledger_sums_match(engine)


def test_a_request_approved_by_many_clicks_at_once_books_its_points_once(
    engine: Engine, now: datetime
) -> None:
    cid = _member(engine, now)
    before = balance(engine, cid)[0]
    request = grant_goodwill(UnitOfWork(engine), BARISTA, cid, 500, "broken mug", now)
    assert request["status"] == "requested"

    results = at_once(
        [
            lambda: approve_goodwill(UnitOfWork(engine), MANAGER, request["goodwill_id"], now)
            for _ in range(PARALLEL)
        ]
    )

    assert sum(isinstance(r, dict) for r in results) == 1, results
    assert all(isinstance(r, (dict, Conflict)) for r in results), results
    assert balance(engine, cid)[0] == before + 500
    assert len(entries(engine, "goodwill")) == 1
    assert ledger_sums_match(engine)
