"""A date a customer told us about that falls on 29 February is kept in common years too.

Married on 29 February: in 2027 the wedding anniversary is celebrated on the day the
business chose for 29 February birthdays (``leap_rule``: 28 February or 1 March), as the
birthday and the membership anniversary are; it must not silently disappear for three
years out of four.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from regulars.domain.access import CLI
from regulars.services import customers as customer_service
from regulars.services.planning import plan_day
from regulars.store.uow import UnitOfWork
from tests import factories

EARLIER = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _married_on_leap_day(engine: Engine) -> int:
    factories.location(engine, EARLIER, code="CAFE-LIS", kind="cafe")
    cid = factories.customer(engine, EARLIER, first_name="Inês", home_location="CAFE-LIS")
    customer_service.set_preference(
        UnitOfWork(engine),
        CLI,
        cid,
        {"label": "date: wedding anniversary", "value": "02-29"},
        now=EARLIER,
    )
    return cid


def _custom_dates(engine: Engine, day: date, leap_rule: str) -> list[tuple[int, str]]:
    now = datetime.combine(day, datetime.min.time(), tzinfo=UTC).replace(hour=6)
    report = plan_day(UnitOfWork(engine), day=day, now=now, leap_rule=leap_rule, dry_run=True)
    return [
        (line.customer_id, line.occasion) for line in report.lines if line.moment == "custom_date"
    ]


@pytest.mark.parametrize(
    ("leap_rule", "day"), [("feb28", date(2027, 2, 28)), ("mar1", date(2027, 3, 1))]
)
def test_a_29_february_date_is_celebrated_on_the_chosen_day_of_a_common_year(
    engine: Engine, leap_rule: str, day: date
) -> None:
    cid = _married_on_leap_day(engine)

    assert _custom_dates(engine, day, leap_rule) == [(cid, "2027:date: wedding anniversary")]


def test_a_29_february_date_is_celebrated_on_the_day_itself_in_a_leap_year(engine: Engine) -> None:
    cid = _married_on_leap_day(engine)

    assert _custom_dates(engine, date(2028, 2, 28), "feb28") == []
    assert _custom_dates(engine, date(2028, 2, 29), "feb28") == [
        (cid, "2028:date: wedding anniversary")
    ]
