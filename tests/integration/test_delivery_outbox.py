"""The outbox end to end on SQLite and PostgreSQL, sending over a real local SMTP server.

Each test queues messages the way the planner does (``enqueue_message`` in a transaction),
runs the delivery worker, and checks what a customer would notice: what arrived in their
inbox, exactly once, and what their timeline says.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from regulars.channels.base import Channel, Message, SendResult, idempotency_key_for
from regulars.channels.fake import FakeChannel
from regulars.channels.sms_http import SmsHttpChannel, SmsSettings
from regulars.channels.smtp import SmtpChannel, SmtpSettings
from regulars.channels.webhooks import (
    SIGNATURE_HEADER,
    WebhookChannel,
    WebhookSettings,
    verify_signature,
)
from regulars.domain.delivery import read_unsubscribe_token, retry_delay
from regulars.domain.errors import InvalidInput
from regulars.services.ingest import ingest_events
from regulars.services.outbox import (
    DeliveryPolicy,
    DeliveryReport,
    deliver_outbox,
    enqueue_message,
    known_template,
)
from regulars.store.outbox_tables import outbox, outbox_attempts
from regulars.store.tables import customers, events
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.delivery_servers import HttpSink, SmtpSink, http_server, smtp_server

POLICY = DeliveryPolicy(
    base_url="https://shop.example", secret_key="test-secret", max_attempts=3, lease_s=120
)


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSink, int]]:
    with smtp_server() as server:
        yield server


def member(engine: Engine, now: datetime, email: str = "ana@example.com", **extra: Any) -> int:
    """A customer at CAFE-LIS who agreed to e-mail and SMS."""
    consents = [
        {"channel": "email", "granted": True, "at": "2026-01-01T10:00:00+00:00"},
        {"channel": "sms", "granted": True, "at": "2026-01-01T10:00:00+00:00"},
    ]
    fields = {"email": email, "home_location": "CAFE-LIS", "consents": consents} | extra
    return factories.customer(engine, now, **fields)


@pytest.fixture
def shop(engine: Engine, now: datetime) -> int:
    return factories.location(engine, now, name="Café Lisboa", brand="Café Central")


def queue(
    engine: Engine,
    customer_id: int,
    *,
    key: str,
    at: datetime,
    moment: str = "birthday",
    template: str = "birthday_greeting",
    channel: str = "email",
    context: dict[str, object] | None = None,
) -> bool:
    with UnitOfWork(engine) as uow:
        added = enqueue_message(
            uow.conn,
            key=key,
            customer_id=customer_id,
            channel=channel,
            moment=moment,
            template=template,
            context=context or {},
            send_after=at,
            decision_id=None,
        )
        uow.commit()
    return added


def email_channel(port: int, timeout_s: float = 3.0) -> dict[str, Channel]:
    return {"email": SmtpChannel(SmtpSettings(port=port, timeout_s=timeout_s))}


def deliver(
    engine: Engine, channels: dict[str, Channel], at: datetime, worker: str = "w1"
) -> DeliveryReport:
    return deliver_outbox(UnitOfWork(engine), channels, now=at, worker_id=worker, policy=POLICY)


def queue_points_sms(engine: Engine, customer_id: int, at: datetime) -> None:
    queue(
        engine,
        customer_id,
        key="points:ana",
        at=at,
        moment="points_expiring",
        template="points_expiring",
        channel="sms",
        context={"points": 120, "expires_on": "2026-06-01"},
    )


def deliver_every_day_until_out_of_attempts(engine: Engine, port: int, start: datetime) -> datetime:
    """Run the worker once a day, as many days as there are attempts; returns the next day."""
    at = start
    for _ in range(POLICY.max_attempts):
        deliver(engine, email_channel(port), at)
        at += timedelta(days=1)
    return at


def row(engine: Engine, key: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(outbox).where(outbox.c.key == key)).mappings().one()


def timeline(engine: Engine, customer_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(events.c.payload)
            .where(events.c.customer_id == customer_id, events.c.type == "message")
            .order_by(events.c.id)
        )
        return [payload for (payload,) in rows]


def test_queueing_the_same_key_twice_keeps_one_message(
    engine: Engine, now: datetime, shop: int
) -> None:
    ana = member(engine, now)
    assert queue(engine, ana, key="birthday:ana:2026", at=now) is True
    assert queue(engine, ana, key="birthday:ana:2026", at=now + timedelta(hours=1)) is False
    with engine.connect() as conn:
        assert len(conn.execute(select(outbox.c.id)).all()) == 1


def test_bad_messages_are_refused_at_queue_time_naming_the_field(
    engine: Engine, now: datetime, shop: int
) -> None:
    ana = member(engine, now)
    cases = [
        ({"channel": "pigeon"}, "channel"),
        ({"template": "no_such_template"}, "template"),
        ({"template": "points_expiring", "context": {"points": 120}}, "context.expires_on"),
        (
            {"template": "points_expiring", "context": {"points": 1.5, "expires_on": "x"}},
            "context.points",
        ),
    ]
    for change, field in cases:
        args: dict[str, Any] = {"key": f"bad-{field}", "at": now} | change
        with pytest.raises(InvalidInput) as caught:
            queue(engine, ana, **args)
        assert caught.value.field == field
    with pytest.raises(InvalidInput) as missing:
        queue(engine, 999_999, key="nobody", at=now)
    assert missing.value.field == "customer_id"
    with engine.connect() as conn:
        assert conn.execute(select(outbox.c.id)).all() == []


def test_known_template_tells_the_planner_about_problems_before_any_send() -> None:
    assert known_template("birthday_greeting", "email") == []
    assert known_template("birthday_greeting", "sms") == []
    assert known_template("missing", "sms") == ["no sms template named 'missing'"]


def test_a_birthday_email_arrives_once_personalised_and_lands_on_the_timeline(
    engine: Engine, now: datetime, shop: int, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    ana = member(engine, now)
    queue(engine, ana, key="birthday:ana:2026", at=now)

    report = deliver(engine, email_channel(port), now)
    again = deliver(engine, email_channel(port), now + timedelta(hours=1))

    assert (report.sent, again.claimed) == (1, 0)
    [mail] = sink.received
    assert mail.rcpt_tos == ["ana@example.com"]
    assert mail.message["Subject"] == "Happy birthday, Ana!"
    body = mail.message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Dear Ana" in text and "Café Lisboa" in text
    link = mail.message["List-Unsubscribe"].strip("<>")
    assert link.startswith("https://shop.example/u/") and link in text
    assert read_unsubscribe_token("test-secret", link.rsplit("/", 1)[1]) == (ana, "email")
    assert mail.message["Message-ID"].startswith(f"<{idempotency_key_for('birthday:ana:2026')}@")
    stored = row(engine, "birthday:ana:2026")
    assert (stored["status"], stored["attempts"]) == ("sent", 1)
    assert now <= stored["sent_at"] < now + timedelta(seconds=10)
    [event] = timeline(engine, ana)
    assert event["status"] == "sent" and event["moment"] == "birthday"
    assert event["subject"] == "Happy birthday, Ana!"


def test_a_message_waits_for_its_send_time(
    engine: Engine, now: datetime, shop: int, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    ana = member(engine, now)
    queue(engine, ana, key="birthday:ana:2026", at=now + timedelta(hours=3))
    assert deliver(engine, email_channel(port), now).claimed == 0
    assert deliver(engine, email_channel(port), now + timedelta(hours=3)).sent == 1
    assert len(sink.received) == 1


def test_a_busy_mailbox_is_retried_with_backoff_and_then_delivered_once(
    engine: Engine, now: datetime, shop: int, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    sink.scripts["ana@example.com"] = ["451"]
    ana = member(engine, now)
    queue(engine, ana, key="birthday:ana:2026", at=now)

    first = deliver(engine, email_channel(port), now)
    waiting = row(engine, "birthday:ana:2026")
    retry_at = now + retry_delay("birthday:ana:2026", 1, base_s=60, cap_s=POLICY.backoff_cap_s)
    too_early = deliver(engine, email_channel(port), retry_at - timedelta(seconds=1))
    second = deliver(engine, email_channel(port), retry_at + timedelta(seconds=1))

    assert first.retrying == 1 and waiting["status"] == "queued"
    assert "451" in waiting["last_error"]
    assert abs(waiting["next_attempt_at"] - retry_at) < timedelta(seconds=1)
    assert too_early.claimed == 0
    assert second.sent == 1
    assert len(sink.received) == 1
    assert [e["status"] for e in timeline(engine, ana)] == ["failed", "sent"]
    assert "retry at" in timeline(engine, ana)[0]["error"]


def test_after_the_last_attempt_a_message_goes_to_the_dead_letters(
    engine: Engine, now: datetime, shop: int, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    sink.scripts["ana@example.com"] = ["451"] * 5
    ana = member(engine, now)
    queue(engine, ana, key="birthday:ana:2026", at=now)
    at = deliver_every_day_until_out_of_attempts(engine, port, now)
    assert deliver(engine, email_channel(port), at + timedelta(days=30)).claimed == 0
    stored = row(engine, "birthday:ana:2026")
    assert stored["status"] == "dead" and stored["attempts"] == POLICY.max_attempts
    assert "gave up after 3 attempts" in stored["last_error"]
    assert [e["status"] for e in timeline(engine, ana)] == ["failed", "failed", "dead"]
    assert sink.received == []


def test_a_mailbox_refused_for_good_is_not_retried_and_says_why(
    engine: Engine, now: datetime, shop: int, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    sink.scripts["gone@example.com"] = ["550"]
    gone = member(engine, now, email="gone@example.com")
    queue(engine, gone, key="birthday:gone:2026", at=now)
    assert deliver(engine, email_channel(port), now).failed == 1
    assert deliver(engine, email_channel(port), now + timedelta(days=1)).claimed == 0
    stored = row(engine, "birthday:gone:2026")
    assert stored["status"] == "failed" and "550" in stored["last_error"]
    [event] = timeline(engine, gone)
    assert event["status"] == "failed" and "550" in event["error"]


def test_a_malformed_address_fails_with_a_reason_and_nothing_is_sent(
    engine: Engine, now: datetime, shop: int, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    ana = member(engine, now)
    with engine.begin() as conn:  # an address imported before validation existed
        conn.execute(update(customers).where(customers.c.id == ana).values(email="ana@@nowhere"))
    queue(engine, ana, key="birthday:ana:2026", at=now)
    assert deliver(engine, email_channel(port), now).failed == 1
    assert "not a valid e-mail address" in row(engine, "birthday:ana:2026")["last_error"]
    assert sink.received == []


def test_a_check_in_before_the_send_suppresses_the_birthday_email(
    engine: Engine, now: datetime, shop: int, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    ana = member(engine, now, birthday="1990-05-01")
    queue(engine, ana, key="birthday:ana:2026", at=now)
    visit = {
        "type": "visit",
        "source": "till",
        "external_id": "checkin-1",
        "occurred_at": (now - timedelta(minutes=20)).isoformat(),
        "customer_id": ana,
        "location": "CAFE-LIS",
    }
    assert ingest_events(UnitOfWork(engine), [visit], now=now).created == 1

    report = deliver(engine, email_channel(port), now)

    assert report.suppressed == 1 and sink.received == []
    stored = row(engine, "birthday:ana:2026")
    assert stored["status"] == "suppressed"
    assert "counter" in stored["reason"]
    assert deliver(engine, email_channel(port), now + timedelta(days=1)).claimed == 0


def test_withdrawn_consent_do_not_contact_and_death_are_honoured_at_send_time(
    engine: Engine, now: datetime, shop: int, smtp: tuple[SmtpSink, int]
) -> None:
    from regulars.domain.access import CLI
    from regulars.services import customers as customer_service

    sink, port = smtp
    people = {
        name: member(engine, now, email=f"{name}@example.com", first_name=name.title())
        for name in ("ana", "rui", "eva")
    }
    for name, cid in people.items():
        queue(
            engine,
            cid,
            key=f"tier:{name}",
            at=now,
            moment="tier_up",
            template="tier_up",
            context={"tier": "Gold"},
        )
    # All three were fine when the plan was made; each changes before the send.
    customer_service.set_consent(
        UnitOfWork(engine),
        CLI,
        people["ana"],
        {"channel": "email", "granted": False, "at": now.isoformat()},
        now=now,
    )
    customer_service.update_customer(
        UnitOfWork(engine), CLI, people["rui"], {"status": "do_not_contact"}, now=now
    )
    customer_service.update_customer(
        UnitOfWork(engine), CLI, people["eva"], {"status": "deceased"}, now=now
    )
    report = deliver(engine, email_channel(port), now + timedelta(minutes=1))
    assert report.suppressed == 3 and sink.received == []
    assert "consent" in row(engine, "tier:ana")["reason"]
    assert "not to be contacted" in row(engine, "tier:rui")["reason"]
    assert "died" in row(engine, "tier:eva")["reason"]
    assert all(timeline(engine, cid) == [] for cid in people.values())


def test_quiet_hours_defer_a_message_and_it_goes_when_they_end(
    engine: Engine, now: datetime, shop: int, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    # 07:00 UTC is 08:00 in Lisbon; Ana's quiet hours last until 09:00 local (08:00 UTC).
    ana = member(engine, now, quiet_hours={"start": "21:00", "end": "09:00"})
    queue(
        engine,
        ana,
        key="tier:ana",
        at=now,
        moment="tier_up",
        template="tier_up",
        context={"tier": "Gold"},
    )

    first = deliver(engine, email_channel(port), now)
    waiting = row(engine, "tier:ana")
    later = deliver(engine, email_channel(port), now + timedelta(hours=1))

    assert first.deferred == 1 and waiting["status"] == "deferred"
    assert waiting["next_attempt_at"] == now + timedelta(hours=1)
    assert "quiet hours" in waiting["reason"]
    assert later.sent == 1 and len(sink.received) == 1


def test_a_hanging_server_times_out_and_the_retry_delivers_exactly_once(
    engine: Engine, now: datetime, shop: int, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    sink.scripts["ana@example.com"] = ["hang:3"]
    ana = member(engine, now)
    queue(engine, ana, key="birthday:ana:2026", at=now)
    started = time.monotonic()
    first = deliver(engine, email_channel(port, timeout_s=0.5), now)
    assert time.monotonic() - started < 2.5
    assert first.retrying == 1
    assert "did not answer" in row(engine, "birthday:ana:2026")["last_error"]
    second = deliver(engine, email_channel(port), now + timedelta(hours=1))
    assert second.sent == 1
    assert sink.keys() == {idempotency_key_for("birthday:ana:2026"): 1}


def test_rows_of_a_worker_that_died_are_taken_over_after_its_lease(
    engine: Engine, now: datetime, shop: int, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    ana = member(engine, now)
    queue(engine, ana, key="birthday:ana:2026", at=now)
    with engine.begin() as conn:  # what a worker killed right after its claim leaves behind
        conn.execute(
            update(outbox).values(
                status="sending", claimed_by="dead-worker", claimed_until=now + timedelta(minutes=2)
            )
        )
    assert deliver(engine, email_channel(port), now + timedelta(minutes=1)).claimed == 0
    report = deliver(engine, email_channel(port), now + timedelta(minutes=3), worker="w2")
    assert (report.recovered, report.sent) == (1, 1)
    assert len(sink.received) == 1
    with engine.connect() as conn:
        outcomes = conn.execute(
            select(outbox_attempts.c.outcome, outbox_attempts.c.worker_id).order_by(
                outbox_attempts.c.id
            )
        ).all()
    assert [tuple(o) for o in outcomes] == [("lease_expired", "w2"), ("sent", "w2")]


def test_an_sms_and_a_signed_webhook_go_out_through_real_http(
    engine: Engine, now: datetime, shop: int
) -> None:
    ana = member(engine, now, phone="+351 912 345 678")
    queue_points_sms(engine, ana, now)
    queue(
        engine,
        ana,
        key="tier:ana:hook",
        at=now,
        moment="tier_up",
        template="tier_up",
        channel="webhook",
        context={"tier": "Gold"},
    )
    with http_server(HttpSink()) as (sink, url):
        channels: dict[str, Channel] = {
            "sms": SmsHttpChannel(SmsSettings(endpoint=f"{url}/sms", api_key="k")),
            "webhook": WebhookChannel(WebhookSettings(url=f"{url}/hook", secret="whsec")),
        }
        report = deliver(engine, channels, now)
    assert report.sent == 2
    by_path = {r.path: r for r in sink.requests}
    sms = by_path["/sms"]
    assert sms.json()["to"] == "+351912345678"
    assert "120 points" in sms.json()["text"]
    assert sms.headers["Idempotency-Key"] == idempotency_key_for("points:ana")
    hook = by_path["/hook"]
    assert verify_signature("whsec", hook.headers[SIGNATURE_HEADER], hook.body, now=time.time())
    assert hook.json()["customer"]["id"] == ana and hook.json()["context"] == {"tier": "Gold"}
    assert hook.headers["Idempotency-Key"] == idempotency_key_for("tier:ana:hook")
    assert sorted(e["channel"] for e in timeline(engine, ana)) == ["sms", "webhook"]


def test_a_channel_that_is_not_configured_fails_the_message_with_a_reason(
    engine: Engine, now: datetime, shop: int
) -> None:
    ana = member(engine, now, phone="+351912345678")
    queue_points_sms(engine, ana, now)
    assert deliver(engine, {}, now).failed == 1
    assert row(engine, "points:ana")["last_error"] == "no sms channel is configured"


def test_a_worker_whose_lease_was_taken_over_does_not_send_those_rows(
    engine: Engine, now: datetime, shop: int
) -> None:
    people = [member(engine, now, email=f"m{n}@example.com") for n in range(3)]
    for n, cid in enumerate(people):
        queue(
            engine,
            cid,
            key=f"tier:{n}",
            at=now,
            moment="tier_up",
            template="tier_up",
            context={"tier": "Gold"},
        )

    class SlowFirstSend(FakeChannel):
        """While the first message is on the wire, another worker takes over the rest."""

        def send(self, message: Message) -> SendResult:
            if not self.attempts:
                with engine.begin() as conn:
                    conn.execute(
                        update(outbox)
                        .where(outbox.c.key != message.key)
                        .values(claimed_by="w2", claimed_until=now + timedelta(hours=1))
                    )
            return super().send(message)

    email = SlowFirstSend("email")
    report = deliver(engine, {"email": email}, now)
    assert email.sent_keys() == ["tier:0"]
    assert report.sent == 1
    with engine.connect() as conn:
        others = conn.execute(
            select(outbox.c.status, outbox.c.claimed_by, outbox.c.attempts).where(
                outbox.c.key != "tier:0"
            )
        ).all()
    assert [tuple(o) for o in others] == [("sending", "w2", 0), ("sending", "w2", 0)]


def test_a_manager_can_send_a_dead_message_again_once_the_cause_is_fixed(
    engine: Engine, now: datetime, shop: int, smtp: tuple[SmtpSink, int]
) -> None:
    from regulars.domain.access import CLI, Actor
    from regulars.domain.errors import Conflict, Forbidden, NotFound
    from regulars.services.outbox import list_messages, outbox_counts, requeue_message
    from regulars.store.tables import audit_log

    sink, port = smtp
    sink.scripts["ana@example.com"] = ["451"] * POLICY.max_attempts
    ana = member(engine, now)
    queue(engine, ana, key="birthday:ana:2026", at=now)
    at = deliver_every_day_until_out_of_attempts(engine, port, now)
    assert outbox_counts(UnitOfWork(engine), CLI) == {"dead": 1}
    [dead] = list_messages(UnitOfWork(engine), CLI, status="dead")
    assert dead["key"] == "birthday:ana:2026" and "gave up" in dead["last_error"]

    clerk = Actor(kind="staff", id=99, role="staff", locations=frozenset({shop}))
    with pytest.raises(Forbidden):
        requeue_message(UnitOfWork(engine), clerk, "birthday:ana:2026", now=at)
    with pytest.raises(NotFound):
        requeue_message(UnitOfWork(engine), CLI, "no-such-key", now=at)
    with pytest.raises(InvalidInput):
        list_messages(UnitOfWork(engine), CLI, status="lost")

    requeue_message(UnitOfWork(engine), CLI, "birthday:ana:2026", now=at)
    assert deliver(engine, email_channel(port), at).sent == 1
    assert len(sink.received) == 1
    with pytest.raises(Conflict):
        requeue_message(UnitOfWork(engine), CLI, "birthday:ana:2026", now=at)
    with engine.connect() as conn:
        actions = [a for (a,) in conn.execute(select(audit_log.c.action))]
    assert "outbox.requeue" in actions


def test_every_failure_and_the_send_after_a_manual_retry_are_on_the_timeline(
    engine: Engine, now: datetime, shop: int
) -> None:
    from regulars.domain.access import CLI
    from regulars.services.outbox import requeue_message

    ana = member(engine, now)
    queue(engine, ana, key="birthday:ana:2026", at=now)
    mail = FakeChannel(
        "email",
        script={
            "ana@example.com": [
                SendResult.permanent("550 no such mailbox"),
                SendResult.permanent("550 still no such mailbox"),
            ]
        },
    )
    deliver(engine, {"email": mail}, now)
    for hours in (1, 2):  # sent again twice: it fails once more, then the mailbox is fixed
        later = now + timedelta(hours=hours)
        requeue_message(UnitOfWork(engine), CLI, "birthday:ana:2026", now=later)
        deliver(engine, {"email": mail}, later)
        deliver(engine, {"email": mail}, later)  # a second run finds nothing more to do

    assert len(mail.attempts) == 3
    assert [(e["status"], e["error"]) for e in timeline(engine, ana)] == [
        ("failed", "550 no such mailbox"),
        ("failed", "550 still no such mailbox"),
        ("sent", ""),
    ]


def test_a_portuguese_speaking_customer_gets_the_portuguese_email(
    engine: Engine, now: datetime, shop: int, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    ana = member(engine, now, language="pt")
    queue(engine, ana, key="birthday:ana:2026", at=now)
    assert deliver(engine, email_channel(port), now).sent == 1
    [mail] = sink.received
    assert mail.message["Subject"] == "Feliz aniversário, Ana!"
    body = mail.message.get_body(("plain",))
    assert body is not None and "Cancelar a subscrição" in body.get_content()
