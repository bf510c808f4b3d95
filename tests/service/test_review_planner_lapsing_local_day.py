""" "Last seen" is the day the regular was last in, on their café's calendar.

A Tokyo regular last in at 08:00 on 20 March (Tokyo) was in at 23:00 on 19 March in UTC;
the plan and the brief said "last seen 2026-03-19", and the barista who remembers her
Friday-morning visit is told Thursday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine

from regulars.services.ingest import ingest_events
from regulars.services.planning import plan_day
from regulars.store.uow import UnitOfWork
from tests import factories

TOKYO_SIX = datetime(2026, 4, 30, 21, 0, tzinfo=UTC)  # 06:00 on 1 May in Tokyo


def test_a_tokyo_regular_is_last_seen_on_the_tokyo_day(engine: Engine) -> None:
    enrolled = datetime(2026, 1, 29, 0, 0, tzinfo=UTC)  # a visit every 12½ days since
    factories.location(engine, enrolled, code="CAFE-TYO", kind="cafe", timezone="Asia/Tokyo")
    regular = factories.customer(engine, enrolled, first_name="Yui", home_location="CAFE-TYO")
    visits = [f"2026-{day}T08:00:00+09:00" for day in ("02-05", "02-19", "03-01", "03-10", "03-20")]
    bought = [
        factories.purchase(f"y-{n}", customer_id=regular, at=at) for n, at in enumerate(visits)
    ]
    ingest_events(UnitOfWork(engine), bought, now=TOKYO_SIX)

    report = plan_day(UnitOfWork(engine), day=date(2026, 5, 1), now=TOKYO_SIX)

    [line] = [line for line in report.lines if line.moment == "lapsing"]
    assert line.customer_id == regular
    assert "lapsing regular (last seen 2026-03-20)" in line.reasons
