"""Caps hold per local day and month whatever order a till's receipts arrive in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from tests import factories
from tests.loyalty_support import balance, ingest, ledger_sums_match, load, program_text

LIS = "CAFE-LIS"
IMMEDIATE = {"  pending_days: 7": "  pending_days: 0", "  welcome_bonus: 25": "  welcome_bonus: 0"}
NO_BONUSES = {
    "    2: 10": "    2: 0",
    "    3: 20": "    3: 0",
    "    5: 50": "    5: 0",
    # Gold's +50 % out of reach, so that only the caps are at work.
    "      threshold: 20000           # 200.00 EUR in the last 12 months": (
        "      threshold: 100000000"
    ),
}


def _buy(external_id: str, cid: int, at: str, cents: int) -> dict[str, object]:
    line = {"sku": "catering", "category": "food", "unit_price": cents}
    return factories.purchase(external_id, customer_id=cid, location=LIS, at=at, lines=[line])


def test_a_till_syncing_yesterdays_receipts_late_does_not_reopen_todays_daily_cap(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, LIS)
    load(engine, now, program_text("cafe", **(IMMEDIATE | NO_BONUSES)))  # at most 200 points a day
    cid = factories.customer(engine, now)

    ingest(engine, now, _buy("today-1", cid, "2026-04-30T10:00:00+01:00", 30000))
    ingest(engine, now, _buy("yesterday", cid, "2026-04-29T18:00:00+01:00", 1000))  # offline till
    ingest(engine, now, _buy("today-2", cid, "2026-04-30T15:00:00+01:00", 30000))

    # 30 April: capped at 200 once for both catering orders; 29 April: 10.
    assert balance(engine, cid) == (200 + 10, 0)
    assert ledger_sums_match(engine)


def test_a_late_receipt_for_a_day_already_capped_earns_nothing_more(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, LIS)
    load(engine, now, program_text("cafe", **(IMMEDIATE | NO_BONUSES)))
    cid = factories.customer(engine, now)

    ingest(engine, now, _buy("mon", cid, "2026-04-27T10:00:00+01:00", 30000))
    ingest(engine, now, _buy("tue", cid, "2026-04-28T10:00:00+01:00", 1000))
    ingest(
        engine,
        now,
        _buy("mon-late-1", cid, "2026-04-27T16:00:00+01:00", 5000),
        _buy("mon-late-2", cid, "2026-04-27T17:00:00+01:00", 5000),
    )
    ingest(engine, now, _buy("tue-2", cid, "2026-04-28T12:00:00+01:00", 1000))

    # Monday was capped at 200 already; Tuesday earns 10 + 10.
    assert balance(engine, cid) == (200 + 20, 0)


def test_a_late_receipt_from_last_month_does_not_reopen_this_months_cap(
    engine: Engine, now: datetime
) -> None:
    monthly = {"  cap_per_day: 200": "  cap_per_day: 100000\n  cap_per_month: 300"}
    factories.location(engine, now, LIS)
    load(engine, now, program_text("cafe", **(IMMEDIATE | NO_BONUSES | monthly)))
    cid = factories.customer(engine, now)

    ingest(engine, now, _buy("may-1", cid, "2026-05-02T10:00:00+01:00", 25000))
    ingest(engine, now, _buy("april", cid, "2026-04-29T10:00:00+01:00", 1000))
    ingest(engine, now, _buy("may-2", cid, "2026-05-03T10:00:00+01:00", 25000))

    # May: 250 + 50 (the cap of 300); April: 10.
    assert balance(engine, cid) == (300 + 10, 0)
