"""Send-time guards the review found missing: a "we miss you" after the customer came back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from regulars.channels.base import Channel
from regulars.channels.smtp import SmtpChannel, SmtpSettings
from regulars.domain.access import CLI
from regulars.services.customers import update_customer
from regulars.services.ingest import ingest_events
from regulars.services.outbox import DeliveryPolicy, deliver_outbox
from regulars.services.unsubscribe import unsubscribe
from regulars.store.outbox_tables import outbox
from regulars.store.tables import consents
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.delivery_data import queue_message, queue_tier_up
from tests.delivery_servers import HttpSink, SmtpSink, http_server, smtp_server, webhook_channels

POLICY = DeliveryPolicy(base_url="https://shop.example", secret_key="test-secret")
CONSENTS = [{"channel": "email", "granted": True, "at": "2026-01-01T10:00:00+00:00"}]


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSink, int]]:
    with smtp_server() as server:
        yield server


def _lapsing_regular(engine: Engine, now: datetime) -> int:
    factories.location(engine, now, name="Café Lisboa")
    ana = factories.customer(
        engine, now, email="ana@example.com", home_location="CAFE-LIS", consents=CONSENTS
    )
    with UnitOfWork(engine) as uow:
        queue_message(
            uow.conn,
            ana,
            now,
            f"lapsing:{ana}:2026-05-01",
            moment="lapsing",
            template="lapsing_we_miss_you",
        )
        uow.commit()
    return ana


def _visit(engine: Engine, customer_id: int, at: datetime) -> None:
    visit = {
        "type": "visit",
        "source": "till",
        "external_id": f"checkin-{at.isoformat()}",
        "occurred_at": at.isoformat(),
        "customer_id": customer_id,
        "location": "CAFE-LIS",
    }
    assert ingest_events(UnitOfWork(engine), [visit], now=at).created == 1


def _send(engine: Engine, port: int, at: datetime) -> None:
    channels: dict[str, Channel] = {"email": SmtpChannel(SmtpSettings(port=port, timeout_s=3))}
    deliver_outbox(UnitOfWork(engine), channels, now=at, worker_id="w1", policy=POLICY)


def _status(engine: Engine) -> tuple[str, str]:
    with engine.connect() as conn:
        found = conn.execute(select(outbox.c.status, outbox.c.reason)).one()
    return str(found.status), str(found.reason or "")


def test_a_regular_who_checked_in_an_hour_ago_gets_no_we_miss_you_email(
    engine: Engine, now: datetime, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    ana = _lapsing_regular(engine, now)
    _visit(engine, ana, now - timedelta(hours=1))

    _send(engine, port, now)

    assert sink.received == []
    status, reason = _status(engine)
    assert status == "suppressed" and "came back" in reason


def test_a_visit_late_last_night_also_stops_the_we_miss_you_sent_this_morning(
    engine: Engine, now: datetime, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    ana = _lapsing_regular(engine, now)
    _visit(engine, ana, now - timedelta(hours=9))  # 22:00 Lisbon time, the evening before

    _send(engine, port, now)

    assert sink.received == []
    assert _status(engine)[0] == "suppressed"


def test_a_lapsing_regular_who_has_not_been_back_still_hears_from_us(
    engine: Engine, now: datetime, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    _lapsing_regular(engine, now)

    _send(engine, port, now)

    [mail] = sink.received
    assert mail.message["Subject"] == "We miss you, Ana"
    assert _status(engine)[0] == "sent"


def _queue_app_greeting(engine: Engine, customer_id: int, at: datetime, key: str) -> None:
    with UnitOfWork(engine) as uow:
        queue_message(
            uow.conn,
            customer_id,
            at,
            key,
            moment="birthday",
            template="birthday_greeting",
            channel="webhook",
        )
        uow.commit()


def test_an_app_greeting_by_webhook_is_not_sent_to_someone_who_died_or_asked_for_no_contact(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, name="Café Lisboa")
    people = {
        status: factories.customer(engine, now, first_name=name, home_location="CAFE-LIS")
        for status, name in (("deceased", "Eva"), ("do_not_contact", "Rui"), ("active", "Ana"))
    }
    for status, cid in people.items():
        _queue_app_greeting(engine, cid, now, key=f"birthday:{status}")
        if status != "active":
            update_customer(UnitOfWork(engine), CLI, cid, {"status": status}, now=now)

    with http_server(HttpSink()) as (sink, url):
        channels = webhook_channels(url)
        report = deliver_outbox(
            UnitOfWork(engine), channels, now=now, worker_id="w1", policy=POLICY
        )

    assert [r.json()["customer"]["first_name"] for r in sink.requests] == ["Ana"]
    assert (report.sent, report.suppressed) == (1, 2)
    with engine.connect() as conn:
        reasons = dict(conn.execute(select(outbox.c.key, outbox.c.reason)).all())
    assert "died" in reasons["birthday:deceased"]
    assert "not to be contacted" in reasons["birthday:do_not_contact"]


def test_a_we_miss_you_push_by_webhook_also_stops_when_the_regular_came_back(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, name="Café Lisboa")
    ana = factories.customer(engine, now, home_location="CAFE-LIS")
    with UnitOfWork(engine) as uow:
        queue_message(
            uow.conn,
            ana,
            now,
            "lapsing:ana:app",
            moment="lapsing",
            template="lapsing_we_miss_you",
            channel="webhook",
        )
        uow.commit()
    _visit(engine, ana, now - timedelta(minutes=30))

    with http_server(HttpSink()) as (sink, url):
        channels = webhook_channels(url)
        deliver_outbox(UnitOfWork(engine), channels, now=now, worker_id="w1", policy=POLICY)

    assert sink.requests == []
    assert _status(engine)[0] == "suppressed"


def _queue_app_tier(engine: Engine, customer_id: int, at: datetime, key: str) -> None:
    with UnitOfWork(engine) as uow:
        queue_tier_up(uow.conn, customer_id, at, key, channel="webhook")
        uow.commit()


def _send_hooks(engine: Engine, at: datetime) -> list[dict[str, object]]:
    with http_server(HttpSink()) as (sink, url):
        channels = webhook_channels(url)
        deliver_outbox(UnitOfWork(engine), channels, now=at, worker_id="w1", policy=POLICY)
    return [r.json() for r in sink.requests]


def test_a_customer_who_turned_app_messages_off_gets_none_by_webhook(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, name="Café Lisboa")
    withdrawn = [{"channel": "webhook", "granted": False, "at": "2026-04-01T10:00:00+00:00"}]
    ana = factories.customer(engine, now, home_location="CAFE-LIS", consents=withdrawn)
    _queue_app_tier(engine, ana, now, "tier:ana:app")

    assert _send_hooks(engine, now) == []
    status, reason = _status(engine)
    assert status == "suppressed" and "consent" in reason


def test_the_stop_link_in_an_app_message_stops_app_messages_not_emails(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, name="Café Lisboa")
    ana = factories.customer(
        engine, now, email="ana@example.com", home_location="CAFE-LIS", consents=CONSENTS
    )
    _queue_app_tier(engine, ana, now, "tier:ana:app")
    [hook] = _send_hooks(engine, now)
    link = str(hook["text"]).rsplit("Stop: ", 1)[1].split()[0]
    token = link.rsplit("/u/", 1)[1]

    done = unsubscribe(UnitOfWork(engine), token, secret=POLICY.secret_key, now=now)

    assert (done.customer_id, done.channel, done.subscribed) == (ana, "webhook", False)
    with engine.connect() as conn:
        granted = dict(
            conn.execute(
                select(consents.c.channel, consents.c.granted).where(consents.c.customer_id == ana)
            ).all()
        )
    assert granted == {"email": True, "webhook": False}
    _queue_app_tier(engine, ana, now + timedelta(days=1), "tier:ana:app:2")
    assert _send_hooks(engine, now + timedelta(days=1)) == []
