"""A customer with no home location keeps quiet hours on the business's own clock.

Such customers are planned on the calendar of the business's first location; their quiet
hours must be read on the same clock, not in UTC, or a Brooklyn café would e-mail them at
six in the morning.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from regulars.services.send_guard import check_send
from tests import factories

#: 10:00 UTC is 06:00 in Brooklyn (daylight time).
SIX_IN_BROOKLYN = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def test_an_unplaced_customers_quiet_hours_are_kept_in_the_businesss_time_zone(
    engine: Engine,
) -> None:
    factories.location(engine, SIX_IN_BROOKLYN, code="CAFE-NYC", timezone="America/New_York")
    cid = factories.customer(
        engine,
        SIX_IN_BROOKLYN,
        email="early@example.com",
        quiet_hours={"start": "21:00", "end": "08:00"},
        consents=[{"channel": "email", "granted": True, "at": "2025-01-01T10:00:00+00:00"}],
    )

    with engine.connect() as conn:
        verdict = check_send(
            conn, customer_id=cid, moment="birthday", channel="email", now=SIX_IN_BROOKLYN
        )

    assert verdict.action == "defer"
    assert verdict.until == datetime(2026, 5, 1, 12, 0, tzinfo=UTC)  # 08:00 in Brooklyn
