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


def queue_message(
    conn: Connection,
    customer_id: int,
    at: datetime,
    key: str,
    *,
    moment: str,
    template: str,
    channel: str = "email",
    context: dict[str, Any] | None = None,
) -> str:
    """Queue one message due at ``at``, as the planner would; returns its key."""
    enqueue_message(
        conn,
        key=key,
        customer_id=customer_id,
        channel=channel,
        moment=moment,
        template=template,
        context=context or {},
        send_after=at,
        decision_id=None,
    )
    return key


def queue_tier_up(
    conn: Connection,
    customer_id: int,
    at: datetime,
    key: str | None = None,
    channel: str = "email",
) -> str:
    """Queue the "welcome to Gold" message (an e-mail unless told), as the planner would;
    returns its key."""
    key = key or f"tier_up:{customer_id}:{at.date().isoformat()}"
    return queue_message(
        conn,
        customer_id,
        at,
        key,
        moment="tier_up",
        template="tier_up",
        channel=channel,
        context={"tier": "Gold"},
    )


def member_with_message(engine: Engine, at: datetime, key: str = "tier:ana") -> int:
    """Ana, with her tier-up e-mail queued under ``key``."""
    cid = email_member(engine, at)
    with engine.begin() as conn:
        queue_tier_up(conn, cid, at, key)
    return cid
