"""Property: whatever the servers answer, each message ends in the state its answers imply.

Hypothesis scripts a sequence of answers per recipient (delivered, transient refusal,
permanent refusal); the worker runs round after round as time passes. Whatever the script,
nothing is delivered twice, nothing is dropped while attempts remain, and the timeline holds
one event per attempt.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from regulars.channels.base import SendResult
from regulars.channels.fake import FakeChannel
from regulars.services.outbox import DeliveryPolicy, deliver_outbox, enqueue_message
from regulars.store.db import make_engine
from regulars.store.outbox_tables import outbox
from regulars.store.schema import metadata
from regulars.store.tables import events
from regulars.store.uow import UnitOfWork
from tests import factories

START = datetime.fromisoformat("2026-05-01T10:00:00+00:00")
POLICY = DeliveryPolicy(max_attempts=4, backoff_base_s=60, backoff_cap_s=1800)
ANSWERS = {
    "sent": SendResult.sent("ok"),
    "transient": SendResult.transient("451 busy"),
    "permanent": SendResult.permanent("550 no such mailbox"),
}
CONSENT = [{"channel": "email", "granted": True, "at": "2026-01-01T00:00:00+00:00"}]


def _expected(script: list[str]) -> tuple[str, int]:
    """Final status and number of attempts the answers imply (unscripted tries succeed)."""
    for attempt in range(1, POLICY.max_attempts + 1):
        answer = script[attempt - 1] if attempt <= len(script) else "sent"
        if answer == "sent":
            return "sent", attempt
        if answer == "permanent":
            return "failed", attempt
    return "dead", POLICY.max_attempts


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scripts=st.lists(
        st.lists(st.sampled_from(sorted(ANSWERS)), max_size=6), min_size=1, max_size=4
    ),
    workers=st.integers(min_value=1, max_value=3),
)
def test_every_message_ends_as_its_answers_imply_and_is_never_sent_twice(
    scripts: list[list[str]], workers: int
) -> None:
    engine = make_engine("sqlite://")
    metadata.create_all(engine)
    factories.location(engine, START)
    keys: dict[str, list[str]] = {}
    addresses: dict[str, str] = {}
    for n, script in enumerate(scripts):
        address = f"m{n}@example.com"
        cid = factories.customer(
            engine, START, email=address, home_location="CAFE-LIS", consents=CONSENT
        )
        key = f"tier_up:{cid}"
        with UnitOfWork(engine) as uow:
            enqueue_message(
                uow.conn,
                key=key,
                customer_id=cid,
                channel="email",
                moment="tier_up",
                template="tier_up",
                context={"tier": "Gold"},
                send_after=START,
                decision_id=None,
            )
            uow.commit()
        keys[key] = script
        addresses[key] = address
    channel = FakeChannel(
        "email", script={addresses[k]: [ANSWERS[a] for a in s] for k, s in keys.items()}
    )

    at = START
    for round_ in range(POLICY.max_attempts * 3):
        deliver_outbox(
            UnitOfWork(engine),
            {"email": channel},
            now=at,
            worker_id=f"w{round_ % workers}",
            policy=POLICY,
            limit=2,
        )
        at += timedelta(hours=1)

    with engine.connect() as conn:
        rows = {r.key: r for r in conn.execute(select(outbox))}
        timeline = conn.execute(select(events.c.payload).where(events.c.type == "message")).all()
    engine.dispose()
    tries = {key: sum(1 for m in channel.attempts if m.key == key) for key in keys}
    assert len(channel.sent) == len(set(channel.sent_keys())), "no key delivered twice"
    for key, script in keys.items():
        status, attempts = _expected(script)
        assert rows[key].status == status, (key, script)
        assert rows[key].attempts == attempts == tries[key]
        assert (key in channel.sent_keys()) == (status == "sent")
    assert len(timeline) == sum(tries.values()), "one timeline event per attempt"
