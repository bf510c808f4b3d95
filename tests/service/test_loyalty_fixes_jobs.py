"""The nightly expiry job and members who never earned or redeemed anything."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from regulars.domain.access import CLI
from regulars.services import loyalty
from regulars.services.goodwill import grant_goodwill
from regulars.services.loyalty_jobs import expire_points
from regulars.store.tables import events
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import balance, ledger_sums_match, load, program_text


def test_goodwill_of_a_member_who_never_bought_is_warned_of_and_expires_after_24_idle_months(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, "AUTO-MUC", timezone="Europe/Berlin")
    load(engine, now, program_text("dealership"))  # all points go after 24 months without activity
    cid = factories.customer(engine, now)
    loyalty.enrol(UnitOfWork(engine), CLI, cid, "dealership", now=now)
    grant_goodwill(UnitOfWork(engine), CLI, cid, 500, "Loan car was late", now)
    two_years = datetime.fromisoformat("2028-05-01T07:00:00+00:00")

    expire_points(UnitOfWork(engine), CLI, now=two_years - timedelta(days=30))
    with engine.connect() as conn:
        warnings = list(
            conn.scalars(select(events.c.payload).where(events.c.type == "points_expiring"))
        )
    assert [(w["points"], w["expires_on"]) for w in warnings] == [(500, "2028-05-01")]
    assert balance(engine, cid, "dealership") == (500, 0)

    summary = expire_points(UnitOfWork(engine), CLI, now=two_years + timedelta(days=1))

    assert summary["dealership"]["expired"] == 500
    assert balance(engine, cid, "dealership") == (0, 0)
    assert ledger_sums_match(engine)
