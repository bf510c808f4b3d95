"""Capacity, quiet hours, merging, outcomes and re-planning, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from regulars.channels.base import SendResult
from regulars.channels.fake import FakeChannel
from regulars.domain.access import CLI
from regulars.domain.errors import Conflict, InvalidInput
from regulars.services import customers as customer_service
from regulars.services import outcomes
from regulars.services.briefs import brief_for_task
from regulars.services.ingest import ingest_events
from regulars.services.outbox import deliver_outbox
from regulars.services.outcomes import record_outcome
from regulars.services.planning import plan_day
from regulars.services.playbook_store import demo_text, save_playbooks
from regulars.services.send_guard import check_send
from regulars.services.tasks import my_tasks, plan_of_day
from regulars.store.planner_tables import staff_tasks
from regulars.store.tables import events
from regulars.store.uow import UnitOfWork
from tests import factories

FRIDAY = date(2026, 5, 1)
SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
BIG_SPENDER = [{"sku": "car", "category": "cars", "unit_price": 3_000_000}]


def _dealer(engine: Engine, capacity: int) -> int:
    factories.location(engine, SIX, code="DEAL-POR", kind="dealership")
    return factories.staff(
        engine,
        SIX,
        email="rui@example.com",
        name="Rui",
        role="rep",
        locations=["DEAL-POR"],
        daily_call_capacity=capacity,
    )


def _vip(engine: Engine, n: int, owner: int, **extra: Any) -> int:
    cid = factories.customer(
        engine,
        SIX,
        first_name=f"Vip{n}",
        phone=f"+35191000000{n}",
        birthday="1970-05-01",
        home_location="DEAL-POR",
        owner_staff_id=owner,
        **extra,
    )
    ingest_events(
        UnitOfWork(engine),
        [
            factories.purchase(
                f"car-{n}", customer_id=cid, at="2025-01-10T10:00:00+00:00", lines=BIG_SPENDER
            )
        ],
        now=SIX,
    )
    return cid


def _tasks(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(staff_tasks).order_by(staff_tasks.c.id)))


def test_calls_beyond_the_reps_capacity_fall_back_to_a_card_and_say_why(engine: Engine) -> None:
    rui = _dealer(engine, capacity=1)
    first, second = _vip(engine, 1, rui), _vip(engine, 2, rui)

    report = plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)

    by_customer = {line.customer_id: line for line in report.lines}
    assert by_customer[first].touch == "call"
    assert by_customer[first].assignee == "Rui"
    assert by_customer[second].touch == "card"
    assert "no call capacity left today" in by_customer[second].reasons
    assert [t.kind for t in _tasks(engine)] == ["call", "card"]


def test_a_second_plan_the_same_day_counts_the_calls_already_given(engine: Engine) -> None:
    rui = _dealer(engine, capacity=1)
    _vip(engine, 1, rui)
    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    late = _vip(engine, 2, rui)

    report = plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX + timedelta(hours=2))

    assert [(line.customer_id, line.touch) for line in report.lines] == [(late, "card")]


def test_quiet_hours_defer_the_email_until_they_end(engine: Engine) -> None:
    factories.location(engine, SIX, code="OPT-LIS", kind="optician")
    factories.customer(
        engine,
        SIX,
        first_name="Night",
        email="owl@example.com",
        birthday="1990-05-01",
        home_location="OPT-LIS",
        quiet_hours={"start": "20:00", "end": "11:00"},
        consents=[{"channel": "email", "granted": True, "at": "2025-01-01T10:00:00+00:00"}],
    )

    report = plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)

    line = report.lines[0]
    assert line.status == "deferred"
    assert "quiet hours 20:00–11:00 in Europe/Lisbon → waits until 11:00" in line.reasons
    assert line.when is not None
    assert datetime.fromisoformat(line.when) == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def test_birthday_and_expiring_points_become_one_call_with_both_in_the_brief(
    engine: Engine,
) -> None:
    rui = _dealer(engine, capacity=3)
    cid = _vip(engine, 1, rui)
    ingest_events(
        UnitOfWork(engine),
        [
            {
                "type": "points_expiring",
                "source": "loyalty",
                "external_id": "x",
                "customer_id": cid,
                "occurred_at": "2026-04-30T03:00:00+00:00",
                "points": 900,
                "expires_on": "2026-05-31",
            }
        ],
        now=SIX,
    )

    report = plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)

    statuses = {line.moment: line.status for line in report.lines}
    assert statuses == {"birthday": "planned", "points_expiring": "merged"}
    [task] = _tasks(engine)
    brief = brief_for_task(UnitOfWork(engine), CLI, task.id, now=SIX)
    assert brief["why_now"] == [
        "birthday",
        "points about to expire: 900 points expire on 2026-05-31",
    ]
    assert "Mention their points: 900 points expire on 2026-05-31." in brief["talking_points"]


def test_an_unreached_call_is_tried_again_then_becomes_a_card(engine: Engine) -> None:
    rui = _dealer(engine, capacity=3)
    _vip(engine, 1, rui)
    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    task_id = _tasks(engine)[0].id

    factories.unanswered(engine, CLI, task_id, 3, SIX)

    kinds = [(t.kind, t.attempt, t.status) for t in _tasks(engine)]
    assert kinds == [
        ("call", 1, "done"),
        ("call", 2, "done"),
        ("call", 3, "done"),
        ("card", 1, "open"),
    ]
    with engine.connect() as conn:
        calls = conn.execute(select(events.c.payload).where(events.c.type == "call")).all()
    assert [p[0]["outcome"] for p in calls] == ["not_reached"] * 3


def test_a_dealership_playbook_of_one_call_attempt_sends_a_card_after_the_first_unanswered_call(
    engine: Engine,
) -> None:
    text = demo_text().replace(
        "      service_due_lead_days: 21\n",
        "      service_due_lead_days: 21\n      max_call_attempts: 1\n",
    )
    assert "max_call_attempts: 1" in text
    save_playbooks(UnitOfWork(engine), CLI, text, now=SIX)
    rui = _dealer(engine, capacity=3)
    _vip(engine, 1, rui)
    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    task_id = _tasks(engine)[0].id

    answer = record_outcome(
        UnitOfWork(engine), CLI, task_id, {"outcome": "not_reached"}, now=SIX + timedelta(hours=4)
    )

    [card] = [t for t in _tasks(engine) if t.id in answer["new_tasks"]]
    assert card.kind == "card"
    assert "(not reached after 1 call)" in card.summary


def test_two_no_answer_taps_at_once_plan_one_retry_and_the_second_is_told_it_is_closed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    rui = _dealer(engine, capacity=3)
    _vip(engine, 1, rui)
    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    task_id = _tasks(engine)[0].id
    brief = outcomes.task_brief

    def slow_brief(*args: Any, **kwargs: Any) -> Any:  # widen the window between the taps
        time.sleep(0.3)
        return brief(*args, **kwargs)

    monkeypatch.setattr(outcomes, "task_brief", slow_brief)
    start = threading.Barrier(2)
    answers: list[object] = []

    def tap() -> None:
        start.wait()
        try:
            answers.append(
                record_outcome(
                    UnitOfWork(engine), CLI, task_id, {"outcome": "not_reached"}, now=SIX
                )
            )
        except Conflict as error:
            answers.append(error)

    taps = [threading.Thread(target=tap) for _ in range(2)]
    for thread in taps:
        thread.start()
    for thread in taps:
        thread.join()

    assert sorted(type(a).__name__ for a in answers) == ["Conflict", "dict"]
    assert [(t.kind, t.attempt, t.status) for t in _tasks(engine)] == [
        ("call", 1, "done"),
        ("call", 2, "open"),
    ]


def _tokyo_call(engine: Engine) -> int:
    """A birthday call task for a big spender of a Tokyo dealership (UTC+9)."""
    factories.location(engine, SIX, code="DEAL-TYO", kind="dealership", timezone="Asia/Tokyo")
    ken = factories.staff(
        engine,
        SIX,
        email="ken@example.com",
        name="Ken",
        role="rep",
        locations=["DEAL-TYO"],
        daily_call_capacity=3,
        # Every day, so that the retry's date is the customer's tomorrow, not Ken's Monday.
        working_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    )
    cid = factories.customer(
        engine,
        SIX,
        first_name="Aiko",
        phone="+81312345678",
        birthday="1970-05-01",
        home_location="DEAL-TYO",
        owner_staff_id=ken,
    )
    ingest_events(
        UnitOfWork(engine),
        [
            factories.purchase(
                "car-1", customer_id=cid, at="2025-01-10T10:00:00+00:00", lines=BIG_SPENDER
            )
        ],
        now=SIX,
    )
    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    [task] = [t for t in _tasks(engine) if t.kind == "call"]
    return int(task.id)


def test_an_unanswered_call_is_retried_on_the_customers_tomorrow_not_the_utc_one(
    engine: Engine,
) -> None:
    task_id = _tokyo_call(engine)
    evening_utc = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)  # already 2 May, 05:00 in Tokyo

    answer = record_outcome(
        UnitOfWork(engine), CLI, task_id, {"outcome": "not_reached"}, now=evening_utc
    )

    [retry] = [t for t in _tasks(engine) if t.id in answer["new_tasks"]]
    assert (retry.kind, retry.due_on) == ("call", date(2026, 5, 3))


def test_a_follow_up_date_already_past_where_the_call_was_made_is_refused_by_name(
    engine: Engine,
) -> None:
    task_id = _tokyo_call(engine)
    evening_utc = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)  # already 2 May, 05:00 in Tokyo

    with pytest.raises(InvalidInput) as refused:
        record_outcome(
            UnitOfWork(engine),
            CLI,
            task_id,
            {"outcome": "reached", "follow_up_on": "2026-05-01"},
            now=evening_utc,
        )

    assert [p.field for p in refused.value.problems] == ["follow_up_on"]
    assert [(t.kind, t.status) for t in _tasks(engine)] == [("call", "open")]
    answer = record_outcome(
        UnitOfWork(engine),
        CLI,
        task_id,
        {"outcome": "reached", "follow_up_on": "2026-05-02"},  # today in Tokyo is fine
        now=evening_utc,
    )
    assert len(answer["new_tasks"]) == 1


def test_a_follow_up_date_becomes_a_call_on_that_day_and_notes_reach_the_timeline(
    engine: Engine,
) -> None:
    rui = _dealer(engine, capacity=3)
    cid = _vip(engine, 1, rui)
    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    task_id = _tasks(engine)[0].id

    answer = record_outcome(
        UnitOfWork(engine),
        CLI,
        task_id,
        {
            "outcome": "reached",
            "emotion": "happy",
            "notes": "Wants a test drive in June.",
            "follow_up_on": "2026-06-01",
        },
        now=SIX + timedelta(hours=5),
    )

    follow = next(t for t in _tasks(engine) if t.id in answer["new_tasks"])
    assert (follow.kind, follow.moment, follow.due_on) == ("call", "follow_up", date(2026, 6, 1))
    assert follow.assignee_staff_id == rui
    queue = my_tasks(UnitOfWork(engine), CLI, today=date(2026, 5, 31), staff_id=rui)
    assert [t["moment"] for t in queue] == ["follow_up"]
    with engine.connect() as conn:
        kinds = [
            r[0]
            for r in conn.execute(
                select(events.c.type).where(events.c.customer_id == cid).order_by(events.c.id)
            )
        ]
    assert kinds[-2:] == ["call", "note"]


def test_bad_outcomes_name_the_field_and_closed_tasks_cannot_be_closed_again(
    engine: Engine,
) -> None:
    rui = _dealer(engine, capacity=3)
    _vip(engine, 1, rui)
    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    task_id = _tasks(engine)[0].id

    with pytest.raises(InvalidInput) as bad:
        record_outcome(UnitOfWork(engine), CLI, task_id, {"outcome": "maybe"}, now=SIX)
    assert bad.value.problems[0].field == "outcome"
    record_outcome(UnitOfWork(engine), CLI, task_id, {"outcome": "reached"}, now=SIX)
    with pytest.raises(Conflict):
        record_outcome(UnitOfWork(engine), CLI, task_id, {"outcome": "reached"}, now=SIX)


def test_a_customer_who_asked_not_to_be_contacted_gets_no_message_and_the_plan_says_so(
    engine: Engine,
) -> None:
    factories.location(engine, SIX, code="OPT-LIS", kind="optician")
    cid = factories.customer(
        engine,
        SIX,
        first_name="Quiet",
        email="q@example.com",
        birthday="1990-05-01",
        home_location="OPT-LIS",
        status="do_not_contact",
        consents=[{"channel": "email", "granted": True, "at": "2025-01-01T10:00:00+00:00"}],
    )

    report = plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)

    assert "the customer asked not to be contacted" in report.lines[0].reasons
    with engine.connect() as conn:
        verdict = check_send(conn, customer_id=cid, moment="birthday", channel="email", now=SIX)
    assert verdict.action == "suppress"


def test_an_unknown_location_is_refused_by_name(engine: Engine) -> None:
    with pytest.raises(InvalidInput) as bad:
        plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX, location="NOWHERE")
    assert bad.value.problems[0].field == "location"


def test_counter_prompts_expire_once_their_days_have_passed(engine: Engine) -> None:
    factories.location(engine, SIX, code="CAFE-LIS", kind="cafe")
    factories.customer(
        engine, SIX, first_name="Rosa", birthday="1980-05-01", home_location="CAFE-LIS"
    )
    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    assert [(t.kind, t.status) for t in _tasks(engine)] == [("in_person", "open")]

    week_later = plan_day(
        UnitOfWork(engine), day=FRIDAY + timedelta(days=6), now=SIX + timedelta(days=6)
    )
    later = plan_day(
        UnitOfWork(engine), day=FRIDAY + timedelta(days=7), now=SIX + timedelta(days=7)
    )

    assert (week_later.expired, later.expired) == (0, 1)
    assert [t.status for t in _tasks(engine)] == ["expired"]


def test_a_sydney_morning_plan_leaves_a_los_angeles_prompt_open_on_its_last_day(
    engine: Engine,
) -> None:
    factories.location(engine, SIX, code="CAFE-LAX", kind="cafe", timezone="America/Los_Angeles")
    factories.location(engine, SIX, code="CAFE-SYD", kind="cafe", timezone="Australia/Sydney")
    factories.customer(
        engine, SIX, first_name="Rosa", birthday="1980-05-01", home_location="CAFE-LAX"
    )
    la_morning = datetime(2026, 5, 1, 13, 0, tzinfo=UTC)  # 06:00 in Los Angeles
    plan_day(UnitOfWork(engine), day=FRIDAY, now=la_morning, location="CAFE-LAX")
    [prompt] = _tasks(engine)
    assert (prompt.kind, prompt.valid_until) == ("in_person", date(2026, 5, 7))

    # 06:30 on 8 May in Sydney is 13:30 on 7 May in Los Angeles, the prompt's last day.
    sydney = plan_day(
        UnitOfWork(engine),
        day=date(2026, 5, 8),
        now=datetime(2026, 5, 7, 20, 30, tzinfo=UTC),
        location="CAFE-SYD",
    )
    assert sydney.expired == 0
    assert [t.status for t in _tasks(engine)] == ["open"]

    los_angeles = plan_day(
        UnitOfWork(engine),
        day=date(2026, 5, 8),
        now=la_morning + timedelta(days=7),
        location="CAFE-LAX",
    )
    assert los_angeles.expired == 1
    assert [t.status for t in _tasks(engine)] == ["expired"]


def test_an_address_the_server_refuses_makes_the_touch_fall_back_with_the_reason(
    engine: Engine,
) -> None:
    factories.location(engine, SIX, code="OPT-LIS", kind="optician")
    factories.customer(
        engine,
        SIX,
        first_name="Bea",
        email="gone@example.com",
        birthday="1990-05-01",
        home_location="OPT-LIS",
        consents=[{"channel": "email", "granted": True, "at": "2025-01-01T10:00:00+00:00"}],
    )
    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    refusing = FakeChannel(
        "email", script={"gone@example.com": [SendResult.permanent("550 no such mailbox")]}
    )
    deliver_outbox(
        UnitOfWork(engine),
        {"email": refusing},
        now=datetime(2026, 5, 1, 9, 1, tzinfo=UTC),
        worker_id="test",
    )

    later = plan_day(UnitOfWork(engine), day=FRIDAY, now=datetime(2026, 5, 1, 10, 0, tzinfo=UTC))

    [line] = later.lines
    assert line.touch == "in_person"
    assert "e-mail failed: 550 no such mailbox → falls back" in line.reasons
    assert "SMS: no mobile number" in line.reasons
    assert [(t.kind, t.moment) for t in _tasks(engine)] == [("in_person", "birthday")]
    again = plan_day(UnitOfWork(engine), day=FRIDAY, now=datetime(2026, 5, 1, 11, 0, tzinfo=UTC))
    assert again.lines == []
    [shown] = plan_of_day(UnitOfWork(engine), CLI, FRIDAY)
    assert shown["touch"] == "in_person"
    assert "e-mail failed: 550 no such mailbox → falls back" in shown["reasons"]


def test_a_regular_is_lapsing_once_silence_passes_k_times_their_own_rhythm(engine: Engine) -> None:
    factories.location(engine, SIX, code="CAFE-LIS", kind="cafe")  # k = 3, floor 14 days
    enrolled = SIX - timedelta(days=100)
    regular = factories.customer(engine, enrolled, first_name="Tomás", home_location="CAFE-LIS")
    fresh = factories.customer(engine, enrolled, first_name="Vera", home_location="CAFE-LIS")
    bought = [
        factories.purchase(f"{who}-{n}", customer_id=cid, at=(SIX - timedelta(days=d)).isoformat())
        for who, cid, days in (("t", regular, (90, 70, 60, 51)), ("v", fresh, (90, 70, 60, 5)))
        for n, d in enumerate(days)
    ]
    ingest_events(UnitOfWork(engine), bought, now=SIX)

    today = plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    tomorrow = plan_day(
        UnitOfWork(engine), day=FRIDAY + timedelta(days=1), now=SIX + timedelta(days=1)
    )

    assert [(line.customer_id, line.moment) for line in today.lines] == [(regular, "lapsing")]
    assert "lapsing regular (last seen 2026-03-11)" in today.lines[0].reasons
    assert tomorrow.lines == []
    assert tomorrow.already_decided == 1


def test_every_kind_of_moment_is_found_from_the_timeline_and_the_profile(engine: Engine) -> None:
    rui = _dealer(engine, capacity=20)
    ana = factories.customer(
        engine,
        datetime(2023, 5, 1, 9, 0, tzinfo=UTC),
        first_name="Ana",
        phone="+351910000001",
        home_location="DEAL-POR",
        owner_staff_id=rui,
    )
    customer_service.add_household_member(
        UnitOfWork(engine),
        CLI,
        ana,
        {"name": "Rui Jr", "relation": "child", "birthday": "2010-05-01"},
        now=SIX,
    )
    customer_service.add_asset(
        UnitOfWork(engine),
        CLI,
        ana,
        {"kind": "car", "label": "ID.4", "model_code": "VW-ID4", "service_due_on": "2026-05-20"},
        now=SIX,
    )
    customer_service.set_preference(
        UnitOfWork(engine),
        CLI,
        ana,
        {"label": "date: wedding anniversary", "value": "05-01"},
        now=SIX,
    )
    yesterday = "2026-04-30T15:00:00+01:00"
    base = {"source": "t", "customer_id": ana, "occurred_at": yesterday}
    ingest_events(
        UnitOfWork(engine),
        [
            {
                "type": "recall",
                "source": "vw",
                "external_id": "r1",
                "occurred_at": yesterday,
                "asset_model": "VW-ID4",
                "title": "Brake hose",
            },
            {**base, "external_id": "s1", "type": "survey_answer", "score": 3},
            {**base, "external_id": "c1", "type": "call", "emotion": "unhappy", "notes": "Late"},
            {
                **base,
                "external_id": "k1",
                "type": "ticket",
                "ticket_id": "T9",
                "occurred_at": "2026-04-29T10:00:00+01:00",
                "subject": "Scratch",
            },
            {**base, "external_id": "g1", "type": "tier", "change": "grace", "tier_to": "gold"},
        ],
        now=SIX,
    )

    report = plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)

    assert {line.moment for line in report.lines} == {
        "anniversary",
        "household_birthday",
        "service_due",
        "custom_date",
        "recall",
        "detractor",
        "unhappy_call",
        "complaint_open",
        "tier_grace",
    }
    calls = [line for line in report.lines if line.touch == "call"]
    assert len(calls) == 1  # one person, one call: the rest rides along or has its own touch
