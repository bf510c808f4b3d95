"""What happened "yesterday" is the previous day on the location's own calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from regulars.services.ingest import ingest_events
from regulars.services.planning import plan_day
from regulars.store.uow import UnitOfWork
from tests import factories


def _buys(engine: Engine, cid: int, at: str, location: str) -> None:
    bought = factories.purchase(f"{cid}-{at}", at=at, customer_id=cid, location=location)
    report = ingest_events(UnitOfWork(engine), [bought], now=datetime.fromisoformat(at))
    assert report.created == 1


def _first_purchases(engine: Engine, day: date, now: datetime, **where: str) -> set[int]:
    report = plan_day(UnitOfWork(engine), day=day, now=now, dry_run=True, **where)
    return {line.customer_id for line in report.lines if line.moment == "first_purchase"}


def test_a_first_purchase_at_breakfast_in_tokyo_is_thanked_the_next_tokyo_morning(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, code="CAFE-TKY", kind="cafe", timezone="Asia/Tokyo")
    cid = factories.customer(engine, now, home_location="CAFE-TKY", email="yui@example.com")
    # 07:30 in Tokyo on 1 May, still 30 April in UTC.
    _buys(engine, cid, "2026-04-30T22:30:00+00:00", "CAFE-TKY")

    # 06:05 in Tokyo on 2 May (21:05 UTC on 1 May): the plan for 2 May.
    morning = datetime.fromisoformat("2026-05-01T21:05:00+00:00")
    found = _first_purchases(engine, date(2026, 5, 2), morning, location="CAFE-TKY")

    assert found == {cid}


def test_planning_every_location_at_once_reads_each_ones_own_yesterday(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, code="CAFE-TKY", kind="cafe", timezone="Asia/Tokyo")
    factories.location(engine, now, code="CAFE-LIS", kind="cafe", timezone="Europe/Lisbon")
    yui = factories.customer(engine, now, first_name="Yui", home_location="CAFE-TKY")
    rita = factories.customer(engine, now, first_name="Rita", home_location="CAFE-LIS")
    _buys(engine, yui, "2026-04-30T22:30:00+00:00", "CAFE-TKY")  # 07:30 on 1 May in Tokyo
    _buys(engine, rita, "2026-04-30T23:30:00+00:00", "CAFE-LIS")  # 00:30 on 1 May in Lisbon

    late = datetime(2026, 5, 3, 12, 0, tzinfo=UTC)
    assert _first_purchases(engine, date(2026, 5, 1), late) == set()
    assert _first_purchases(engine, date(2026, 5, 2), late) == {yui, rita}
    assert _first_purchases(engine, date(2026, 5, 3), late) == set()


def test_across_both_clock_changes_each_unhappy_answer_comes_up_on_exactly_one_morning(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, code="CAFE-LIS", kind="cafe", timezone="Europe/Lisbon")
    cid = factories.customer(engine, now, home_location="CAFE-LIS")
    # Lisbon's clocks jump from 01:00 to 02:00 on 29 March and fall back on 25 October.
    local_day_of = {
        "2026-03-28T23:59:59+00:00": date(2026, 3, 28),
        "2026-03-29T00:00:00+00:00": date(2026, 3, 29),
        "2026-03-29T01:30:00+00:00": date(2026, 3, 29),  # 02:30, summer time
        "2026-03-29T22:59:59+00:00": date(2026, 3, 29),  # 23:59:59, the 23-hour day ends
        "2026-03-29T23:00:00+00:00": date(2026, 3, 30),
        "2026-10-24T22:59:59+00:00": date(2026, 10, 24),
        "2026-10-24T23:00:00+00:00": date(2026, 10, 25),
        "2026-10-25T01:30:00+00:00": date(2026, 10, 25),  # 01:30 the second time round
        "2026-10-25T23:59:59+00:00": date(2026, 10, 25),  # the 25-hour day ends
        "2026-10-26T00:00:00+00:00": date(2026, 10, 26),
    }
    answers = [
        {
            "type": "survey_answer",
            "source": "survey",
            "external_id": at,
            "customer_id": cid,
            "occurred_at": at,
            "score": 2,
        }
        for at in local_day_of
    ]
    report = ingest_events(UnitOfWork(engine), answers, now=datetime(2026, 11, 1, tzinfo=UTC))
    event_day = {
        str(r.event_id): local_day_of[at]
        for r, at in zip(report.results, local_day_of, strict=True)
    }

    planned_on: dict[str, list[date]] = {}
    for start in (date(2026, 3, 28), date(2026, 10, 24)):
        for offset in range(4):
            day = start + timedelta(days=offset)
            morning = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)
            plan = plan_day(
                UnitOfWork(engine), day=day, now=morning, location="CAFE-LIS", dry_run=True
            )
            for line in plan.lines:
                if line.moment == "detractor":
                    planned_on.setdefault(line.occasion, []).append(day)

    assert planned_on == {event: [local + timedelta(days=1)] for event, local in event_day.items()}


def test_a_membership_anniversary_falls_on_the_local_day_the_member_joined(
    engine: Engine,
) -> None:
    joined = datetime.fromisoformat("2025-04-30T23:00:00+00:00")  # 08:00 on 1 May in Tokyo
    factories.location(engine, joined, code="CAFE-TKY", kind="cafe", timezone="Asia/Tokyo")
    cid = factories.customer(engine, joined, home_location="CAFE-TKY")

    def anniversaries(day: date) -> set[int]:
        morning = datetime.combine(day, datetime.min.time(), tzinfo=UTC) - timedelta(hours=3)
        report = plan_day(
            UnitOfWork(engine), day=day, now=morning, location="CAFE-TKY", dry_run=True
        )
        return {line.customer_id for line in report.lines if line.moment == "anniversary"}

    assert anniversaries(date(2026, 4, 30)) == set()
    assert anniversaries(date(2026, 5, 1)) == {cid}
