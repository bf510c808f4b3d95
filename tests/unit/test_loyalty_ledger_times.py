"""The fast time texts on SQLite (``db_time``, the ledger's) equal what ``UtcDateTime`` gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from pydantic_core import TzInfo

from regulars.domain.ledger import add_months
from regulars.services.loyalty_book import _later_text, _stored_time
from regulars.store.bulk import db_time, utc_text

ZONES = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=-5)),
        timezone(timedelta(hours=5, minutes=45)),
        TzInfo(-(3 * 3600 + 30 * 60)),  # what pydantic gives a time parsed from ISO text
        ZoneInfo("Europe/Lisbon"),
        ZoneInfo("America/New_York"),
        ZoneInfo("Australia/Lord_Howe"),
    ]
)
MOMENTS = st.datetimes(
    min_value=datetime(1990, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2090, 1, 1),  # noqa: DTZ001
    timezones=ZONES,
)


@given(MOMENTS)
def test_utc_text_is_what_utc_date_time_stores(moment: datetime) -> None:
    stored = moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    assert utc_text(moment) == stored
    assert db_time("sqlite", moment) == stored
    assert _stored_time(utc_text(moment)) == moment.astimezone(UTC)


@given(
    MOMENTS,
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=0, max_value=36),
    st.integers(min_value=-7200, max_value=7200),
    ZONES,
)
def test_later_text_is_db_time(
    start: datetime, days: int, months: int, seconds: int, zone: timezone | ZoneInfo
) -> None:
    for later in (
        start + timedelta(days=days),
        add_months(start, months),
        start + timedelta(days=days, seconds=seconds),
        (start + timedelta(days=days)).astimezone(zone),
    ):
        assert _later_text(utc_text(start), start, later) == utc_text(later)
