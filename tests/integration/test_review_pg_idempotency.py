"""The same Idempotency-Key from many clients at once runs its request once, on PostgreSQL too."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI
from regulars.domain.errors import Conflict
from regulars.services import idempotency
from regulars.services.goodwill import grant_goodwill
from regulars.store.loyalty_tables import loyalty_goodwill
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import open_cafe
from tests.races import at_once

PARALLEL = 16


def test_a_stale_claim_retried_by_many_clients_at_once_is_retaken_by_one(
    engine: Engine, now: datetime
) -> None:
    """A request whose process died leaves a pending claim; after five minutes a retry may
    take it over. Retries arriving together must not all take it, or the order runs twice."""
    digest = idempotency.request_hash({"order": 1})
    died = now - idempotency.STALE_CLAIM - timedelta(minutes=1)
    assert idempotency.claim(UnitOfWork(engine), "k-died", "api", digest, now=died) is None

    results = at_once(
        [lambda: idempotency.claim(UnitOfWork(engine), "k-died", "api", digest, now=now)] * PARALLEL
    )

    retaken = [r for r in results if r is None]
    assert len(retaken) == 1, results
    assert all(isinstance(r, Conflict) for r in results if r is not None), results


def test_one_goodwill_form_posted_many_times_at_once_books_once(
    engine: Engine, now: datetime
) -> None:
    open_cafe(engine, now, immediate=False)
    cid = factories.customer(engine, now)

    results = at_once(
        [
            lambda: grant_goodwill(
                UnitOfWork(engine), CLI, cid, 40, "cold coffee", now, program="cafe", key="form-1"
            )
        ]
        * PARALLEL
    )

    answers = [r for r in results if isinstance(r, dict)]
    assert answers and all(a == answers[0] for a in answers), results
    assert all(isinstance(r, (dict, Conflict)) for r in results), results
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(loyalty_goodwill)) == 1
