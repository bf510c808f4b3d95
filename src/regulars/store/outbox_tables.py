"""The outbox: messages waiting to go out, one row per decision key, and a log of every try.

A row is written in the planner's transaction (so a rolled-back plan never leaves a message
behind) and sent later by the delivery worker. The unique ``key`` is what makes delivery
exactly-once per decision: enqueueing the same key again is a no-op, and the worker claims a
row with a lease (``claimed_by``/``claimed_until``) before it talks to any channel.

``scheduler_runs`` remembers which daily jobs already ran for which location and local date,
so that several ``regulars serve`` processes never plan the same day twice.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from regulars.store.tables import metadata
from regulars.store.types import BigId, Json, UtcDateTime

#: queued and deferred rows wait for next_attempt_at; sending rows hold a lease;
#: sent, failed (permanent), dead (too many tries) and suppressed (a guard said no) are final.
OUTBOX_STATUSES = ("queued", "sending", "sent", "failed", "dead", "suppressed", "deferred")

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("moment", String(60), nullable=False),
    Column("template", String(80), nullable=False),
    Column("context", Json, nullable=False),
    Column("decision_id", BigId),
    Column("status", String(20), nullable=False, server_default="queued"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("send_after", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("claimed_by", String(120)),
    Column("claimed_until", UtcDateTime),
    Column("last_error", String(1000), nullable=False, server_default=""),
    Column("reason", String(500), nullable=False, server_default=""),
    Column("provider_id", String(300), nullable=False, server_default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    CheckConstraint(
        "status in ('queued','sending','sent','failed','dead','suppressed','deferred')",
        name="status",
    ),
    CheckConstraint("channel in ('email','sms','webhook')", name="channel"),
    CheckConstraint("attempts >= 0", name="attempts"),
    Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_outbox_customer_id", "customer_id"),
    Index("ix_outbox_decision_id", "decision_id"),
)

outbox_attempts = Table(
    "outbox_attempts",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("outbox_id", ForeignKey("outbox.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("worker_id", String(120), nullable=False),
    # sent / transient / permanent / dead / suppressed / deferred / lease_expired
    Column("outcome", String(20), nullable=False),
    Column("detail", String(1000), nullable=False, server_default=""),
    Index("ix_outbox_attempts_outbox_id", "outbox_id"),
)

scheduler_runs = Table(
    "scheduler_runs",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("job", String(40), nullable=False),
    Column("location_id", ForeignKey("locations.id", ondelete="CASCADE"), nullable=False),
    Column("day", Date, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("worker_id", String(120), nullable=False),
    Column("detail", String(1000), nullable=False, server_default=""),
    UniqueConstraint("job", "location_id", "day"),
)

__all__ = ["OUTBOX_STATUSES", "outbox", "outbox_attempts", "scheduler_runs"]
