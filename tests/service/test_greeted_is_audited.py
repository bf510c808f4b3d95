"""Tapping "greeted" at the counter closes the day's prompt, and the audit log says who did."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, select

from regulars.domain.access import CLI
from regulars.services.checkin import check_in, mark_greeted
from regulars.services.planning import plan_day
from regulars.store.planner_tables import staff_tasks
from regulars.store.tables import audit_log
from regulars.store.uow import UnitOfWork
from tests import factories

SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)


def test_closing_a_counter_prompt_by_greeting_is_in_the_audit_log(engine: Engine) -> None:
    factories.location(engine, SIX, code="CAFE-LIS", kind="cafe")
    cid = factories.customer(
        engine,
        SIX,
        first_name="Rosa",
        birthday="1980-05-01",
        card_number="RG-7",
        home_location="CAFE-LIS",
    )
    plan_day(UnitOfWork(engine), day=date(2026, 5, 1), now=SIX)
    at_the_counter = SIX + timedelta(hours=4)
    visit = check_in(
        UnitOfWork(engine), CLI, {"card_number": "RG-7", "location": "CAFE-LIS"}, now=at_the_counter
    )

    mark_greeted(
        UnitOfWork(engine), CLI, visit["checkin_id"], {"moment": "birthday"}, now=at_the_counter
    )
    mark_greeted(  # a second tap closes nothing more and says nothing more
        UnitOfWork(engine), CLI, visit["checkin_id"], {"moment": "birthday"}, now=at_the_counter
    )

    with engine.connect() as conn:
        [status] = conn.scalars(select(staff_tasks.c.status)).all()
        entries = conn.execute(
            select(audit_log.c.action, audit_log.c.entity_id, audit_log.c.actor).where(
                audit_log.c.action == "checkin.greeted"
            )
        ).all()
    assert status == "done"
    assert [(a, str(e), actor) for a, e, actor in entries] == [
        ("checkin.greeted", str(cid), CLI.label)
    ]
