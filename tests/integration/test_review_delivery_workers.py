"""Two delivery processes started with the same ``--worker-id`` (one deployment, two replicas)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import Engine

from regulars.channels.base import Channel, idempotency_key_for
from regulars.channels.smtp import SmtpChannel, SmtpSettings
from regulars.services.outbox import DeliveryPolicy, deliver_outbox
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.delivery_data import queue_tier_up
from tests.delivery_servers import smtp_server

POLICY = DeliveryPolicy(base_url="https://shop.example", secret_key="test-secret", lease_s=60)
CONSENTS = [{"channel": "email", "granted": True, "at": "2026-01-01T10:00:00+00:00"}]


def _channels(port: int) -> dict[str, Channel]:
    return {"email": SmtpChannel(SmtpSettings(port=port, timeout_s=5))}


def test_a_replica_sharing_a_worker_name_never_sends_a_message_the_other_one_took_over(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    people = {
        name: factories.customer(
            engine, now, email=f"{name}@example.com", home_location="CAFE-LIS", consents=CONSENTS
        )
        for name in ("ana", "rui")
    }
    with UnitOfWork(engine) as uow:
        for name, cid in people.items():
            queue_tier_up(uow.conn, cid, now, f"tier:{name}")
        uow.commit()

    with smtp_server() as (first, first_port), smtp_server() as (second, second_port):
        later = now + timedelta(seconds=POLICY.lease_s + 1)
        # Replica B's relay is slow with its second message (Rui's): B is mid-send while A,
        # freed from its hang, goes on to the next row of the batch it claimed.
        second.before_data = lambda count: time.sleep(1.5) if count == 1 else None
        replica_b = threading.Thread(
            target=deliver_outbox,
            args=(UnitOfWork(engine), _channels(second_port)),
            kwargs={"now": later, "worker_id": "mail-1", "policy": POLICY},
        )

        def replica_b_takes_over(_: int) -> None:
            # Replica A is stuck in its first send past its lease; replica B, started with
            # the same --worker-id, takes the whole batch over.
            if not replica_b.is_alive():
                replica_b.start()
                time.sleep(0.5)

        first.before_data = replica_b_takes_over
        deliver_outbox(
            UnitOfWork(engine), _channels(first_port), now=now, worker_id="mail-1", policy=POLICY
        )
        replica_b.join(timeout=30)
        arrived = first.keys() + second.keys()

    # Ana's e-mail was already on the wire when A's lease ran out: the documented
    # at-least-once window. Rui's, which A had not started, must go out exactly once.
    rui = idempotency_key_for("tier:rui")
    assert arrived[rui] == 1, arrived
