"""A friend who was referred: her name on the referrer's timeline is hers to see and to erase."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from regulars.domain.access import CLI
from regulars.services.ingest import ingest_events
from regulars.services.privacy import ERASED, erase_customer, export_customer
from regulars.store.tables import events
from regulars.store.uow import UnitOfWork
from tests import factories


def _referral(engine: Engine, now: datetime) -> tuple[int, int]:
    """Ana brought her friend Bea Santos, who then enrolled with a profile of her own."""
    ana = factories.customer(engine, now, first_name="Ana", card_number="C-ANA")
    bea = factories.customer(engine, now, first_name="Bea", last_name="Santos")
    ingest_events(
        UnitOfWork(engine),
        [
            {
                "type": "referral",
                "source": "pos",
                "external_id": "ref-1",
                "occurred_at": "2026-04-02T10:00:00+00:00",
                "customer_id": ana,
                "code": "ANA-10",
                "friend_customer_id": bea,
                "friend_name": "Bea Santos",
            }
        ],
        now=now,
    )
    return ana, bea


def _referral_payload(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        payload = conn.scalar(select(events.c.payload).where(events.c.type == "referral"))
    assert isinstance(payload, dict)
    return payload


def test_erasing_a_referred_friend_removes_her_name_from_the_referrers_timeline(
    engine: Engine, now: datetime
) -> None:
    _, bea = _referral(engine, now)

    erase_customer(UnitOfWork(engine), CLI, bea, now=now, confirm=True)

    payload = _referral_payload(engine)
    assert payload["friend_name"] == ERASED
    assert payload["code"] == "ANA-10"  # the referrer keeps her referral and its reward


def test_a_referred_friends_export_holds_the_referral_that_names_her(
    engine: Engine, now: datetime
) -> None:
    _, bea = _referral(engine, now)

    document = export_customer(UnitOfWork(engine), CLI, bea, now=now)

    mentions = document["mentioned_in"]
    assert [(e["type"], e["payload"]["friend_name"]) for e in mentions] == [
        ("referral", "Bea Santos")
    ]
    assert "customer_id" not in mentions[0]  # the referrer's identity is not hers to take
