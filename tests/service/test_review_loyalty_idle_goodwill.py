"""Inactivity expiry and points given to a member who has been idle for years.

Goodwill (or a manager's credit) given today must not vanish tonight because the member's
last purchase was long ago: no lot is taken by inactivity before it is ``expiry.months``
old itself. The status page, the warning and the expiry job must agree on that.
"""

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

MUC = "AUTO-MUC"
GIVEN = datetime.fromisoformat("2026-05-01T07:00:00+00:00")
TWO_YEARS_ON = datetime.fromisoformat("2028-05-01T07:00:00+00:00")


def _idle_member_given_goodwill(engine: Engine) -> int:
    """A dealership member who joined three years ago, never came back, and got 500 points
    of goodwill today (the loan car was late)."""
    joined = GIVEN - timedelta(days=3 * 365)
    factories.location(engine, joined, MUC, timezone="Europe/Berlin")
    load(engine, joined, program_text("dealership"))  # inactivity: all points after 24 months
    cid = factories.customer(engine, joined)
    loyalty.enrol(UnitOfWork(engine), CLI, cid, "dealership", now=joined)
    grant_goodwill(UnitOfWork(engine), CLI, cid, 500, "Loan car was late", GIVEN)
    return cid


def _warnings(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        rows = conn.scalars(select(events.c.payload).where(events.c.type == "points_expiring"))
        return [(w["points"], w["expires_on"]) for w in rows]


def test_goodwill_given_to_a_member_idle_for_years_shows_as_available_until_its_own_expiry(
    engine: Engine,
) -> None:
    cid = _idle_member_given_goodwill(engine)

    status = loyalty.member_status(UnitOfWork(engine), CLI, cid, now=GIVEN + timedelta(hours=1))
    (dealer,) = status

    assert dealer["available_points"] == 500
    assert [(e["points"], e["on"]) for e in dealer["expiring"]] == [(500, TWO_YEARS_ON)]


def test_the_nightly_job_keeps_goodwill_given_to_an_idle_member_for_the_full_expiry_period(
    engine: Engine,
) -> None:
    cid = _idle_member_given_goodwill(engine)

    tonight = expire_points(UnitOfWork(engine), CLI, now=GIVEN + timedelta(days=1))

    assert tonight["dealership"]["expired"] == 0
    assert balance(engine, cid, "dealership") == (500, 0)

    expire_points(UnitOfWork(engine), CLI, now=TWO_YEARS_ON - timedelta(days=30))
    assert _warnings(engine) == [(500, "2028-05-01")]

    later = expire_points(UnitOfWork(engine), CLI, now=TWO_YEARS_ON + timedelta(days=1))
    assert later["dealership"]["expired"] == 500
    assert balance(engine, cid, "dealership") == (0, 0)
    assert ledger_sums_match(engine)
