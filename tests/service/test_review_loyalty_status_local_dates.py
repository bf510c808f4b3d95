"""The status page names the program's local day, the one the expiry warning names."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from regulars.domain.access import CLI
from regulars.services import loyalty
from regulars.services.loyalty_jobs import expire_points
from regulars.store.uow import UnitOfWork
from tests.loyalty_support import cafe_member, open_cafe


def test_points_earned_just_after_midnight_in_lisbon_expire_on_the_lisbon_day(
    engine: Engine, now: datetime
) -> None:
    open_cafe(engine, now, immediate=False)
    cid = cafe_member(
        engine,
        now,
        1000,
        external_id="late",
        sku="x",
        category="drinks",
        at="2026-05-01T00:30:00+01:00",  # 30 April, 23:30 in UTC
    )

    (fresh,) = loyalty.member_status(UnitOfWork(engine), CLI, cid, now=now)
    assert fresh["pending_until"].date() == date(2026, 5, 8)
    expire_points(UnitOfWork(engine), CLI, now=now + timedelta(days=340))
    (status,) = loyalty.member_status(UnitOfWork(engine), CLI, cid, now=now + timedelta(days=340))

    (expiring,) = status["expiring"]
    assert expiring["on"].date() == date(2027, 5, 1)
    assert expiring["on"] == datetime.fromisoformat("2027-05-01T00:30:00+01:00")
    assert expiring["on"].strftime("%Y-%m-%d") == "2027-05-01"  # as the CLI prints it
