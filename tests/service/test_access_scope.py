"""Scoping as a property: whatever the locations, an actor sees exactly their own customers."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from regulars.domain.access import CLI, Actor
from regulars.domain.customers import Role
from regulars.domain.errors import NotFound
from regulars.services.access import unreachable_customers
from regulars.services.queries import get_customer, search_customers
from regulars.store.tables import locations
from regulars.store.uow import UnitOfWork
from tests import factories

CODES = ("LOC-A", "LOC-B", "LOC-C")
_serial = itertools.count()


@pytest.fixture
def places(engine: Engine, now: datetime) -> dict[str, int]:
    for code in CODES:
        factories.location(engine, now, code)
    with engine.connect() as conn:
        return {c: int(i) for c, i in conn.execute(select(locations.c.code, locations.c.id))}


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    homes=st.lists(st.sampled_from((*CODES, None)), min_size=1, max_size=6),
    mine=st.sets(st.sampled_from(CODES), max_size=3),
)
def test_an_actor_finds_reads_and_reaches_exactly_the_customers_of_their_locations(
    engine: Engine,
    now: datetime,
    places: dict[str, int],
    homes: list[str | None],
    mine: set[str],
) -> None:
    tag = f"Scope{next(_serial)}"
    ids = {
        factories.customer(engine, now, first_name=tag, home_location=home): home for home in homes
    }
    actor = Actor(kind="staff", id=1, role=Role.staff, locations=frozenset(places[c] for c in mine))
    expected = {cid for cid, home in ids.items() if home in mine}

    found = {c.id for c in search_customers(UnitOfWork(engine), actor, tag, limit=50)}
    readable = set()
    for cid in ids:
        try:
            get_customer(UnitOfWork(engine), actor, cid)
            readable.add(cid)
        except NotFound:
            pass
    with engine.connect() as conn:
        outside = unreachable_customers(conn, actor, ids)
        assert unreachable_customers(conn, CLI, ids) == set()

    assert found == readable == expected
    assert outside == set(ids) - expected
