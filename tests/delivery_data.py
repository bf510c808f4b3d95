"""Test data for delivery tests: members who agreed to e-mail, and messages queued for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from regulars.services.outbox import enqueue_message
from tests import factories

EMAIL_CONSENT = [{"channel": "email", "granted": True, "at": "2026-01-01T00:00:00+00:00"}]


def email_member(engine: Engine, at: datetime, email: str = "ana@example.com", **extra: Any) -> int:
    """A customer of CAFE-LIS (which must exist) who agreed to e-mail."""
    fields = {"email": email, "home_location": "CAFE-LIS", "consents": EMAIL_CONSENT} | extra
    return factories.customer(engine, at, **fields)


def queue_tier_up(conn: Connection, customer_id: int, at: datetime, key: str | None = None) -> str:
    """Queue the "welcome to Gold" e-mail, as the planner would; returns its key."""
    key = key or f"tier_up:{customer_id}:{at.date().isoformat()}"
    enqueue_message(
        conn,
        key=key,
        customer_id=customer_id,
        channel="email",
        moment="tier_up",
        template="tier_up",
        context={"tier": "Gold"},
        send_after=at,
        decision_id=None,
    )
    return key


def member_with_message(engine: Engine, at: datetime, key: str = "tier:ana") -> int:
    """Ana, with her tier-up e-mail queued under ``key``."""
    cid = email_member(engine, at)
    with engine.begin() as conn:
        queue_tier_up(conn, cid, at, key)
    return cid
