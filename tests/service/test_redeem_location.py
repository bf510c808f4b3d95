"""A redemption remembers where the reward was handed over; only a real, own location."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, select

from regulars.domain.access import CLI, Actor, Role
from regulars.domain.errors import Forbidden, InvalidInput
from regulars.services.customers import update_customer
from regulars.services.redeem import redeem
from regulars.store.loyalty_tables import loyalty_redemptions
from regulars.store.tables import locations
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.service.test_loyalty_redeem import _member_with


def _where(engine: Engine) -> list[int | None]:
    with engine.connect() as conn:
        return list(conn.scalars(select(loyalty_redemptions.c.location_id)))


def test_a_redemption_at_the_counter_is_kept_with_its_location(
    engine: Engine, now: datetime
) -> None:
    cid = _member_with(engine, now, 100)
    porto = factories.location(engine, now, "CAFE-POR")

    answer = redeem(UnitOfWork(engine), CLI, cid, "free-drink", now=now, location="CAFE-POR")

    assert answer["location"] == "CAFE-POR"
    assert _where(engine) == [porto]


def test_an_unknown_or_foreign_location_is_refused_and_nothing_is_spent(
    engine: Engine, now: datetime
) -> None:
    cid = _member_with(engine, now, 100)
    factories.location(engine, now, "CAFE-POR")
    update_customer(UnitOfWork(engine), CLI, cid, {"home_location": "CAFE-LIS"}, now=now)
    with engine.connect() as conn:
        lisbon = int(conn.scalar(select(locations.c.id).where(locations.c.code == "CAFE-LIS")))
    lisbon_clerk = Actor(kind="staff", id=5, role=Role.staff, locations=frozenset({lisbon}))

    with pytest.raises(InvalidInput) as unknown:
        redeem(UnitOfWork(engine), CLI, cid, "free-drink", now=now, location="NOWHERE")
    with pytest.raises(Forbidden) as foreign:
        redeem(UnitOfWork(engine), lisbon_clerk, cid, "free-drink", now=now, location="CAFE-POR")

    assert unknown.value.problems[0].field == "location"
    assert foreign.value.field == "location"
    assert _where(engine) == []
