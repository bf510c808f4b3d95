"""A message that falls back to another channel still keeps to the contact caps.

Bea got an SMS on Tuesday (her new tier); the playbook allows one SMS a week. On Friday
her birthday e-mail bounces ("550 no such mailbox") and the birthday falls back along its
rule: the SMS is the next touch, but a second SMS this week breaks the cap, so it is
skipped with the cap as the reason and the counter prompt after it carries the birthday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, func, select

from regulars.channels.base import SendResult
from regulars.channels.fake import FakeChannel
from regulars.domain.access import CLI
from regulars.services.ingest import ingest_events
from regulars.services.outbox import deliver_outbox
from regulars.services.planning import plan_day
from regulars.services.playbook_store import save_playbooks
from regulars.store.outbox_tables import outbox
from regulars.store.uow import UnitOfWork
from tests import factories

TUESDAY_SIX = datetime(2026, 4, 28, 5, 0, tzinfo=UTC)
FRIDAY_SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
PLAYBOOKS = """
playbooks:
  default:
    send_at: "10:00"
    caps: {automated_per_week: 3, promotional_per_week: 1, per_channel_per_week: {email: 2, sms: 1}}
    rules:
      - moment: tier_up
        touches:
          - {touch: sms, template: tier_up}
      - moment: birthday
        purpose: greeting
        touches:
          - {touch: email, template: birthday_greeting}
          - {touch: sms, template: birthday_greeting}
          - {touch: in_person, valid_days: 7}
"""
GRANTED = "2025-01-01T10:00:00+00:00"


def test_a_bounced_birthday_email_does_not_fall_back_to_an_sms_over_the_weeks_cap(
    engine: Engine,
) -> None:
    save_playbooks(UnitOfWork(engine), CLI, PLAYBOOKS, now=TUESDAY_SIX)
    factories.location(engine, TUESDAY_SIX, code="OPT-LIS", kind="optician")
    bea = factories.customer(
        engine,
        TUESDAY_SIX,
        first_name="Bea",
        email="gone@example.com",
        phone="+351910000001",
        birthday="1990-05-01",
        home_location="OPT-LIS",
        consents=[
            {"channel": "email", "granted": True, "at": GRANTED},
            {"channel": "sms", "granted": True, "at": GRANTED},
        ],
    )
    tier = {
        "type": "tier",
        "source": "loyalty",
        "external_id": "tier-1",
        "occurred_at": "2026-04-27T12:00:00+00:00",
        "customer_id": bea,
        "change": "up",
        "tier_to": "gold",
    }
    ingest_events(UnitOfWork(engine), [tier], now=TUESDAY_SIX)
    tuesday = plan_day(UnitOfWork(engine), day=date(2026, 4, 28), now=TUESDAY_SIX)
    assert [(line.moment, line.touch) for line in tuesday.lines] == [("tier_up", "sms")]
    plan_day(UnitOfWork(engine), day=date(2026, 5, 1), now=FRIDAY_SIX)
    bouncing = FakeChannel(
        "email", script={"gone@example.com": [SendResult.permanent("550 no such mailbox")]}
    )
    deliver_outbox(
        UnitOfWork(engine),
        {"email": bouncing, "sms": FakeChannel("sms")},
        now=datetime(2026, 5, 1, 9, 1, tzinfo=UTC),
        worker_id="test",
    )

    later = plan_day(
        UnitOfWork(engine), day=date(2026, 5, 1), now=datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    )

    [line] = later.lines
    assert line.touch == "in_person"
    assert "contact cap: already 1 SMS this week (limit 1)" in line.reasons
    with engine.connect() as conn:
        sms = conn.scalar(select(func.count()).select_from(outbox).where(outbox.c.channel == "sms"))
    assert sms == 1
