"""The "points expiring" warning names a date and exactly the points that go that day."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from regulars.domain.access import CLI
from regulars.services.loyalty_jobs import expire_points
from regulars.store.tables import events
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import ingest, load, program_text


def _purchase(key: str, cid: int, at: str, euros: int) -> dict[str, object]:
    return factories.purchase(
        key,
        customer_id=cid,
        location="CAFE-LIS",
        at=at,
        lines=[{"sku": "x", "category": "drinks", "unit_price": euros * 100}],
    )


def test_points_expiring_on_two_days_are_not_all_announced_for_the_first(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    load(engine, now, program_text("cafe", **{"  welcome_bonus: 25": "  welcome_bonus: 0"}))
    cid = factories.customer(engine, now)
    ingest(engine, now, _purchase("a", cid, "2026-05-01T10:00:00+01:00", 10))
    ingest(engine, now, _purchase("b", cid, "2026-05-03T10:00:00+01:00", 40))

    expire_points(UnitOfWork(engine), CLI, now=now + timedelta(days=340))

    with engine.connect() as conn:
        rows = conn.scalars(select(events.c.payload).where(events.c.type == "points_expiring"))
        warnings = [(w["points"], w["expires_on"]) for w in rows]
    # 10 points go on 1 May 2027; the 40 of 3 May are not among them
    assert warnings == [(10, "2027-05-01")]
