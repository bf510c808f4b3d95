"""A message sent again by a manager after fixing the number must reach a deduplicating provider."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from regulars.channels.base import Channel
from regulars.channels.sms_http import SmsHttpChannel, SmsSettings
from regulars.domain.access import CLI
from regulars.services.customers import update_customer
from regulars.services.outbox import (
    DeliveryPolicy,
    deliver_outbox,
    requeue_message,
)
from regulars.store.outbox_tables import outbox
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.delivery_data import queue_message
from tests.delivery_servers import JsonHandler, serving

POLICY = DeliveryPolicy(base_url="https://shop.example", secret_key="test-secret")
CONSENTS = [{"channel": "sms", "granted": True, "at": "2026-01-01T10:00:00+00:00"}]
UNREACHABLE = "+351910000000"


@contextmanager
def deduplicating_provider() -> Iterator[tuple[list[dict[str, Any]], str]]:
    """An SMS API as the Idempotency-Key draft describes it: a repeated key gets the first
    answer again, whatever the body; a number it cannot reach is a 400."""
    delivered: list[dict[str, Any]] = []
    answers: dict[str, tuple[int, bytes]] = {}
    lock = threading.Lock()

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = self.headers["Idempotency-Key"]
            with lock:
                if key not in answers:
                    if body["to"] == UNREACHABLE:
                        answers[key] = (400, b'{"error": "unreachable number"}')
                    else:
                        delivered.append(body)
                        answers[key] = (200, json.dumps({"id": f"sms-{len(delivered)}"}).encode())
                status, payload = answers[key]
            self.reply(status, payload)

    with serving(Handler) as url:
        yield delivered, f"{url}/sms"


def test_a_text_sent_again_after_the_number_was_corrected_reaches_the_customer(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    ana = factories.customer(
        engine, now, phone=UNREACHABLE, home_location="CAFE-LIS", consents=CONSENTS
    )
    with UnitOfWork(engine) as uow:
        queue_message(
            uow.conn,
            ana,
            now,
            "points:ana",
            moment="points_expiring",
            template="points_expiring",
            channel="sms",
            context={"points": 120, "expires_on": "2026-06-01"},
        )
        uow.commit()

    with deduplicating_provider() as (delivered, endpoint):
        channels: dict[str, Channel] = {"sms": SmsHttpChannel(SmsSettings(endpoint=endpoint))}
        first = deliver_outbox(UnitOfWork(engine), channels, now=now, worker_id="w1", policy=POLICY)
        later = now + timedelta(hours=1)
        update_customer(UnitOfWork(engine), CLI, ana, {"phone": "+351 912 345 678"}, now=later)
        requeue_message(UnitOfWork(engine), CLI, "points:ana", now=later)
        again = deliver_outbox(
            UnitOfWork(engine), channels, now=later, worker_id="w1", policy=POLICY
        )

    assert first.failed == 1
    assert again.sent == 1, again
    assert [sms["to"] for sms in delivered] == ["+351912345678"]
    with engine.connect() as conn:
        assert conn.scalar(select(outbox.c.status)) == "sent"
