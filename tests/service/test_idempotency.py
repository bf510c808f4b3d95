"""Idempotency keys: the same request gets the same answer; a different one is refused."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from regulars.domain.errors import Conflict
from regulars.services import idempotency
from regulars.store.tables import idempotency_keys
from regulars.store.uow import UnitOfWork


def test_a_finished_request_is_replayed_and_a_different_body_is_a_conflict(
    engine: Engine, now: datetime
) -> None:
    digest = idempotency.request_hash({"a": 1})
    assert idempotency.claim(UnitOfWork(engine), "k1", "scope", digest, now=now) is None
    idempotency.remember(
        UnitOfWork(engine), "k1", "scope", idempotency.StoredAnswer(201, {"id": 7})
    )

    again = idempotency.claim(UnitOfWork(engine), "k1", "scope", digest, now=now)

    assert again == idempotency.StoredAnswer(201, {"id": 7})
    with pytest.raises(Conflict):
        idempotency.claim(
            UnitOfWork(engine), "k1", "scope", idempotency.request_hash({"a": 2}), now=now
        )
    assert idempotency.claim(UnitOfWork(engine), "k1", "other", digest, now=now) is None


def test_a_request_still_running_blocks_its_twin_until_it_is_stale(
    engine: Engine, now: datetime
) -> None:
    digest = idempotency.request_hash([1])
    assert idempotency.claim(UnitOfWork(engine), "k2", "s", digest, now=now) is None
    with pytest.raises(Conflict, match="still running"):
        idempotency.claim(UnitOfWork(engine), "k2", "s", digest, now=now)
    later = now + timedelta(minutes=6)
    assert idempotency.claim(UnitOfWork(engine), "k2", "s", digest, now=later) is None


def test_a_released_key_runs_afresh(engine: Engine, now: datetime) -> None:
    digest = idempotency.request_hash("x")
    idempotency.claim(UnitOfWork(engine), "k3", "s", digest, now=now)
    idempotency.release(UnitOfWork(engine), "k3", "s")
    assert idempotency.claim(UnitOfWork(engine), "k3", "s", digest, now=now) is None


def test_answers_are_forgotten_after_a_day_with_the_customer_data_they_hold(
    engine: Engine, now: datetime
) -> None:
    digest = idempotency.request_hash({"first_name": "Angela"})
    idempotency.claim(UnitOfWork(engine), "k4", "s", digest, now=now)
    answer = idempotency.StoredAnswer(201, {"profile": {"first_name": "Angela"}})
    idempotency.remember(UnitOfWork(engine), "k4", "s", answer)
    hour_before = now + idempotency.KEEP_ANSWERS - timedelta(hours=1)
    assert idempotency.claim(UnitOfWork(engine), "k4", "s", digest, now=hour_before) == answer

    idempotency.claim(UnitOfWork(engine), "other", "s", "d", now=now + idempotency.KEEP_ANSWERS * 2)

    with engine.connect() as conn:
        kept = list(conn.scalars(select(idempotency_keys.c.key)))
    assert kept == ["other"]


@given(st.dictionaries(st.text(max_size=5), st.integers(), max_size=6))
def test_the_request_hash_ignores_key_order(body: dict[str, int]) -> None:
    reordered = dict(reversed(list(body.items())))
    assert idempotency.request_hash(body) == idempotency.request_hash(reordered)
