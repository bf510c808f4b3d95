"""A manager's deduction sees the balance the member's status shows, job run or not.

Points whose return window is over are available on the status page before the nightly
job books them; points past their expiry are gone from it. A deduction must agree: it may
take the first, never the second.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from regulars.domain.access import CLI
from regulars.domain.errors import InvalidInput
from regulars.services import loyalty
from regulars.services.loyalty_jobs import expire_points
from regulars.store.uow import UnitOfWork
from tests.loyalty_support import balance, cafe_member, entries, ledger_sums_match, open_cafe


def _member_with_pending_points(engine: Engine, now: datetime) -> int:
    """100.00 EUR at the café: 100 points plus the 25 welcome points, pending for 7 days."""
    open_cafe(engine, now, immediate=False)
    return cafe_member(engine, now, 10000, external_id="p", sku="x", category="drinks")


def _available(engine: Engine, cid: int, at: datetime) -> int:
    (status,) = loyalty.member_status(UnitOfWork(engine), CLI, cid, now=at)
    return int(status["available_points"])


def test_a_manager_can_deduct_points_the_status_shows_before_the_nightly_job_matured_them(
    engine: Engine, now: datetime
) -> None:
    cid = _member_with_pending_points(engine, now)
    week_later = now + timedelta(days=8)
    assert _available(engine, cid, week_later) == 125

    result = loyalty.adjust_points(
        UnitOfWork(engine), CLI, cid, "cafe", -50, "booked twice", now=week_later
    )

    assert result["available_points"] == 75
    assert balance(engine, cid) == (75, 0)
    assert ledger_sums_match(engine)


def test_a_deduction_never_takes_points_already_past_their_expiry(
    engine: Engine, now: datetime
) -> None:
    cid = _member_with_pending_points(engine, now)
    expire_points(UnitOfWork(engine), CLI, now=now + timedelta(days=8))  # 125 available
    year_later = now + timedelta(days=400)
    assert _available(engine, cid, year_later) == 0

    with pytest.raises(InvalidInput) as refused:
        loyalty.adjust_points(UnitOfWork(engine), CLI, cid, "cafe", -10, "typo", now=year_later)

    assert refused.value.problems[0].field == "points"
    assert "only 0 points" in refused.value.problems[0].message
    assert entries(engine, "adjust") == []
    assert ledger_sums_match(engine)
