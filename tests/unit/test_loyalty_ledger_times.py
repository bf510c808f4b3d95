"""The ledger's fast time texts on SQLite equal what ``db_time`` and ``UtcDateTime`` give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from regulars.domain.ledger import add_months
from regulars.services.loyalty_book import _later_text, _stored_time, _utc_text
from regulars.store.bulk import db_time

ZONES = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=-5)),
        timezone(timedelta(hours=5, minutes=45)),
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
def test_utc_text_is_db_time(moment: datetime) -> None:
    assert _utc_text(moment) == db_time("sqlite", moment)
    assert _stored_time(_utc_text(moment)) == moment.astimezone(UTC)


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
        assert _later_text(_utc_text(start), start, later) == db_time("sqlite", later)
