"""What the counter is told, and what a "greeted" tap accepts.

* On a child's birthday the counter says it once ("It is Leo's birthday today"), not a
  second time as the planner's prompt for the same occasion.
* A "greeted" tap names a moment the planner knows; a misspelt one ("birthdya") used to be
  accepted and changed nothing: the prompt stayed open and the birthday e-mail stayed held
  back. It is now refused by name.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI
from regulars.domain.errors import InvalidInput
from regulars.services import customers as customer_service
from regulars.services.checkin import check_in, mark_greeted
from regulars.services.planning import plan_day
from regulars.store.tables import events
from regulars.store.uow import UnitOfWork
from tests import factories

SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
AT_THE_COUNTER = SIX + timedelta(hours=4)


def _regular(engine: Engine, **extra: object) -> int:
    factories.location(engine, SIX, code="CAFE-LIS", kind="cafe")
    return factories.customer(
        engine, SIX, first_name="Nuno", card_number="RG-7", home_location="CAFE-LIS", **extra
    )


def _scan(engine: Engine) -> dict[str, object]:
    return check_in(
        UnitOfWork(engine), CLI, {"card_number": "RG-7", "location": "CAFE-LIS"}, now=AT_THE_COUNTER
    )


def test_a_childs_birthday_is_said_once_at_the_counter(engine: Engine) -> None:
    nuno = _regular(engine)
    customer_service.add_household_member(
        UnitOfWork(engine),
        CLI,
        nuno,
        {"name": "Leo", "relation": "child", "birthday": "2015-05-01"},
        now=SIX,
    )
    plan_day(UnitOfWork(engine), day=date(2026, 5, 1), now=SIX)

    view = _scan(engine)

    assert view["prompts"] == ["It is Leo's birthday today (Nuno's child): ask after them."]


def test_a_greeted_tap_for_an_unknown_moment_is_refused_by_name(engine: Engine) -> None:
    _regular(engine, birthday="1980-05-01")
    visit = _scan(engine)

    with pytest.raises(InvalidInput) as refused:
        mark_greeted(
            UnitOfWork(engine),
            CLI,
            int(str(visit["checkin_id"])),
            {"moment": "birthdya"},
            now=AT_THE_COUNTER,
        )

    assert [p.field for p in refused.value.problems] == ["moment"]
    with engine.connect() as conn:
        greeted = conn.scalar(select(func.count()).where(events.c.type == "greeted"))
    assert greeted == 0


def test_two_tills_that_number_their_requests_alike_record_both_visits(engine: Engine) -> None:
    nuno = _regular(engine)
    factories.location(engine, SIX, code="CAFE-LON", timezone="Europe/London")
    vera = factories.customer(
        engine, SIX, first_name="Vera", card_number="RG-8", home_location="CAFE-LON"
    )

    lisbon = check_in(
        UnitOfWork(engine),
        CLI,
        {"card_number": "RG-7", "location": "CAFE-LIS", "request_id": "0001"},
        now=AT_THE_COUNTER,
    )
    london = check_in(
        UnitOfWork(engine),
        CLI,
        {"card_number": "RG-8", "location": "CAFE-LON", "request_id": "0001"},
        now=AT_THE_COUNTER,
    )

    assert (lisbon["duplicate"], london["duplicate"]) == (False, False)
    with engine.connect() as conn:
        visits = conn.execute(
            select(events.c.id, events.c.customer_id).where(events.c.type == "visit")
        ).all()
    assert sorted((int(i), int(c)) for i, c in visits) == sorted(
        [(int(str(lisbon["checkin_id"])), nuno), (int(str(london["checkin_id"])), vera)]
    )


def test_a_retry_with_the_longest_request_id_is_still_one_visit(engine: Engine) -> None:
    _regular(engine)
    scan = {"card_number": "RG-7", "location": "CAFE-LIS", "request_id": "r" * 100}

    first = check_in(UnitOfWork(engine), CLI, scan, now=AT_THE_COUNTER)
    again = check_in(UnitOfWork(engine), CLI, scan, now=AT_THE_COUNTER + timedelta(seconds=5))

    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert first["checkin_id"] == again["checkin_id"]
