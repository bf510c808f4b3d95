"""plan_day on a real database: decisions with reasons, tasks, outbox rows, idempotent."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI
from regulars.services.checkin import check_in
from regulars.services.planning import plan_day
from regulars.services.send_guard import check_send
from regulars.store.outbox_tables import outbox
from regulars.store.planner_tables import plan_decisions, staff_tasks
from regulars.store.uow import UnitOfWork
from tests import factories

DAY = date(2026, 5, 1)
SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)  # 06:00 in Lisbon


def _optician(engine: Engine) -> None:
    factories.location(engine, SIX, code="OPT-LIS", kind="optician")


def _birthday_customer(engine: Engine, **extra: object) -> int:
    fields: dict[str, object] = {
        "first_name": "Helena",
        "last_name": "Costa",
        "email": "helena@example.com",
        "birthday": "1980-05-01",
        "home_location": "OPT-LIS",
        "card_number": "OPT-0001",
        "consents": [{"channel": "email", "granted": True, "at": "2025-01-01T10:00:00+00:00"}],
    } | extra
    return factories.customer(engine, SIX, **fields)


def _rows(engine: Engine, table: object) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table))]  # type: ignore[call-overload]


def test_a_birthday_becomes_a_ten_o_clock_email_with_its_reason(engine: Engine) -> None:
    _optician(engine)
    cid = _birthday_customer(engine)

    report = plan_day(UnitOfWork(engine), day=DAY, now=SIX)

    line = next(line for line in report.lines if line.moment == "birthday")
    assert line.customer_id == cid
    assert line.status == "planned"
    assert line.touch == "email"
    assert "e-mail at 10:00 local" in line.reasons
    queued = _rows(engine, outbox)
    assert len(queued) == 1
    assert queued[0]["template"] == "birthday_greeting"
    assert queued[0]["send_after"] == datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def test_planning_the_same_day_again_changes_nothing(engine: Engine) -> None:
    _optician(engine)
    _birthday_customer(engine)
    plan_day(UnitOfWork(engine), day=DAY, now=SIX)

    again = plan_day(UnitOfWork(engine), day=DAY, now=SIX)

    assert again.lines == []
    assert again.already_decided == 1
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(plan_decisions)) == 1
        assert conn.scalar(select(func.count()).select_from(outbox)) == 1


def test_a_dry_run_writes_nothing(engine: Engine) -> None:
    _optician(engine)
    _birthday_customer(engine)

    report = plan_day(UnitOfWork(engine), day=DAY, now=SIX, dry_run=True)

    assert [line.status for line in report.lines] == ["planned"]
    assert _rows(engine, plan_decisions) == []
    assert _rows(engine, outbox) == []


def test_without_email_consent_the_birthday_falls_back_and_says_why(engine: Engine) -> None:
    _optician(engine)
    _birthday_customer(engine, consents=[])

    report = plan_day(UnitOfWork(engine), day=DAY, now=SIX)

    line = report.lines[0]
    assert line.touch == "in_person"
    assert "e-mail: no consent for e-mail" in line.reasons
    assert "SMS: no mobile number" in line.reasons
    assert [t["kind"] for t in _rows(engine, staff_tasks)] == ["in_person"]


def test_a_check_in_before_ten_stops_the_birthday_email_at_send_time(engine: Engine) -> None:
    _optician(engine)
    cid = _birthday_customer(engine)
    plan_day(UnitOfWork(engine), day=DAY, now=SIX)
    nine_forty = datetime(2026, 5, 1, 8, 40, tzinfo=UTC)

    view = check_in(
        UnitOfWork(engine),
        CLI,
        {"card_number": "OPT-0001", "location": "OPT-LIS"},
        now=nine_forty,
    )

    assert view["birthday_today"] is True
    assert any("birthday today" in prompt for prompt in view["prompts"])
    with engine.connect() as conn:
        verdict = check_send(
            conn,
            customer_id=cid,
            moment="birthday",
            channel="email",
            now=datetime(2026, 5, 1, 9, 0, tzinfo=UTC),
        )
    assert verdict.action == "suppress"
    assert "in-store visit at 09:40 today" in verdict.reason


def test_a_member_who_joined_on_29_february_has_an_anniversary_on_the_day_the_business_chose(
    engine: Engine,
) -> None:
    leap_day = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)
    factories.location(engine, leap_day, code="CAFE-LIS", kind="cafe")
    cid = factories.customer(engine, leap_day, first_name="Leo", home_location="CAFE-LIS")

    def anniversary_on(day: date, rule: str) -> bool:
        morning = datetime.combine(day, time(5), tzinfo=UTC)
        report = plan_day(UnitOfWork(engine), day=day, now=morning, dry_run=True, leap_rule=rule)
        return any(
            line.customer_id == cid and line.moment == "anniversary" for line in report.lines
        )

    common_year = (date(2025, 2, 28), date(2025, 3, 1))
    assert [anniversary_on(day, "feb28") for day in common_year] == [True, False]
    assert [anniversary_on(day, "mar1") for day in common_year] == [False, True]
    leap_year = (date(2028, 2, 28), date(2028, 2, 29), date(2028, 3, 1))
    assert [anniversary_on(day, "mar1") for day in leap_year] == [False, True, False]
