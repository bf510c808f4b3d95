"""The planner checks a message against the customer's profile when it queues it, not at 10:00."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, select, update

from regulars.domain.access import CLI
from regulars.services.plan_messages import (
    PlannedMessage,
    printed_profile_fields,
    queue_planned_messages,
)
from regulars.services.planning import plan_day
from regulars.services.tasks import plan_of_day
from regulars.store.outbox_tables import outbox
from regulars.store.planner_tables import plan_decisions
from regulars.store.tables import customers
from regulars.store.uow import UnitOfWork
from tests import factories

DAY = date(2026, 5, 1)
SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)  # 06:00 in Lisbon
TEN = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
EMAIL_CONSENT = [{"channel": "email", "granted": True, "at": "2025-01-01T10:00:00+00:00"}]


def _birthday(engine: Engine, card: str, **extra: object) -> int:
    fields: dict[str, object] = {
        "first_name": "Helena",
        "last_name": "Costa",
        "email": f"{card.lower()}@example.com",
        "birthday": "1980-05-01",
        "home_location": "OPT-LIS",
        "card_number": card,
        "consents": EMAIL_CONSENT,
    } | extra
    return factories.customer(engine, SIX, **fields)


def _blank(engine: Engine, customer_id: int, **columns: object) -> None:
    """A profile as an old import or a hand-edited database left it (around the services)."""
    with engine.begin() as conn:
        conn.execute(update(customers).where(customers.c.id == customer_id).values(**columns))


def _queued(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return sorted(int(cid) for cid in conn.scalars(select(outbox.c.customer_id)))


def _message(customer_id: int, template: str, channel: str = "email") -> PlannedMessage:
    return PlannedMessage(
        key=f"test:{customer_id}:{template}:{channel}",
        customer_id=customer_id,
        channel=channel,
        moment="birthday",
        template=template,
        context={},
        send_after=TEN,
        decision_id=customer_id,
    )


def test_a_birthday_email_to_someone_without_a_first_name_is_suppressed_with_the_reason(
    engine: Engine,
) -> None:
    factories.location(engine, SIX, code="OPT-LIS", kind="optician")
    nameless = _birthday(engine, "OPT-0001")
    helena = _birthday(engine, "OPT-0002")
    _blank(engine, nameless, first_name="")

    report = plan_day(UnitOfWork(engine), day=DAY, now=SIX)

    lines = {line.customer_id: line for line in report.lines}
    why = "e-mail: template 'birthday_greeting' needs a first name, and the profile has none"
    assert (lines[nameless].status, lines[nameless].touch) == ("suppressed", None)
    assert why in lines[nameless].reasons
    assert lines[helena].status == "planned"
    assert report.messages == 1
    assert _queued(engine) == [helena]
    shown = {row["customer_id"]: row for row in plan_of_day(UnitOfWork(engine), CLI, DAY)}
    assert shown[nameless]["status"] == "suppressed"
    assert why in shown[nameless]["reasons"]


def test_an_empty_email_address_is_caught_when_the_plan_queues_not_when_the_worker_sends(
    engine: Engine,
) -> None:
    factories.location(engine, SIX, code="OPT-LIS", kind="optician")
    cid = _birthday(engine, "OPT-0001")
    _blank(engine, cid, email="")  # not NULL, so the planning guards take it for an address

    report = plan_day(UnitOfWork(engine), day=DAY, now=SIX)

    [line] = report.lines
    assert line.status == "suppressed"
    assert "e-mail: no e-mail address" in line.reasons
    assert _queued(engine) == []
    with engine.connect() as conn:
        status, reasons = conn.execute(
            select(plan_decisions.c.status, plan_decisions.c.reasons)
        ).one()
    assert status == "suppressed" and "e-mail: no e-mail address" in reasons


def test_a_dry_run_shows_the_same_suppression_and_writes_nothing(engine: Engine) -> None:
    factories.location(engine, SIX, code="OPT-LIS", kind="optician")
    cid = _birthday(engine, "OPT-0001")
    _blank(engine, cid, first_name="  ")

    report = plan_day(UnitOfWork(engine), day=DAY, now=SIX, dry_run=True)

    assert [line.status for line in report.lines] == ["suppressed"]
    assert "needs a first name" in report.lines[0].reasons
    assert _queued(engine) == []


def test_the_bulk_queue_refuses_only_the_messages_a_profile_cannot_carry_and_says_why(
    engine: Engine,
) -> None:
    factories.location(engine, SIX, code="OPT-LIS", kind="optician")
    no_email = factories.customer(engine, SIX, first_name="Ana", phone="+351912345678")
    no_phone = factories.customer(engine, SIX, first_name="Rui", email="rui@example.com")
    fine = factories.customer(engine, SIX, first_name="Eva", email="eva@example.com")
    messages = [
        _message(no_email, "birthday_greeting"),
        _message(no_phone, "birthday_greeting", channel="sms"),
        _message(fine, "birthday_greeting"),
        _message(999_999, "birthday_greeting"),
    ]

    with UnitOfWork(engine) as uow:
        queued = queue_planned_messages(uow.conn, messages)
        uow.commit()

    assert queued.count == 1
    assert queued.refused == {
        messages[0].key: "e-mail: no e-mail address",
        messages[1].key: "SMS: no mobile number",
        messages[3].key: "e-mail: the customer no longer exists",
    }
    assert _queued(engine) == [fine]


def test_a_field_the_template_can_do_without_does_not_stop_the_message(engine: Engine) -> None:
    """'… next in {{ city or "the neighbourhood" }}' reads well without a city."""
    factories.location(engine, SIX, code="CAFE-LIS", kind="cafe")
    cityless = factories.customer(engine, SIX, first_name="Ana", email="ana@example.com")

    with UnitOfWork(engine) as uow:
        queued = queue_planned_messages(uow.conn, [_message(cityless, "lapsing_we_miss_you")])
        uow.commit()

    assert (queued.count, queued.refused) == (1, {})
    assert printed_profile_fields("lapsing_we_miss_you", "email") == {"first_name"}


def test_queueing_the_same_messages_again_counts_none_of_them(engine: Engine) -> None:
    factories.location(engine, SIX, code="OPT-LIS", kind="optician")
    fine = factories.customer(engine, SIX, first_name="Eva", email="eva@example.com")
    messages = [_message(fine, "birthday_greeting")]

    counts = []
    for _ in range(2):
        with UnitOfWork(engine) as uow:
            counts.append(queue_planned_messages(uow.conn, messages).count)
            uow.commit()

    assert counts == [1, 0]
    assert _queued(engine) == [fine]
