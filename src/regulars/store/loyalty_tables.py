"""Loyalty tables: programs, memberships with their cached balance, the ledger, rewards.

``loyalty_members.available`` and ``.pending`` are a cache of the ledger: each equals the sum
of the ledger's ``available_delta`` / ``pending_delta`` for that member (tests check it).
Ledger movements are append-only; a credit entry (earn, goodwill, adjust) is also a *lot*
whose ``lot_remaining`` records how much of it is still unspent, which redemption, expiry and
reversal draw down. ``matured`` says whether a lot's points have left pending.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from regulars.store.tables import metadata
from regulars.store.types import BigId, UtcDateTime

loyalty_programs = Table(
    "loyalty_programs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(60), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(120), nullable=False),
    Column("source_text", Text, nullable=False),  # the YAML exactly as loaded
    Column("current", Boolean, nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
    Column("loaded_by", String(200), nullable=False),
    UniqueConstraint("code", "version"),
    Index("ix_loyalty_programs_code_current", "code", "current"),
)

loyalty_members = Table(
    "loyalty_members",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("program", String(60), nullable=False),
    Column("enrolled_at", UtcDateTime, nullable=False),
    Column("enrolled_how", String(20), nullable=False),  # auto, opt_in
    Column("tier", String(60), nullable=False),
    Column("tier_since", UtcDateTime, nullable=False),
    Column("reviews_since_grace", Integer),  # NULL: grace never used
    Column("reviewed_month", Integer),  # yyyymm of the last tier review (one per month)
    Column("last_activity_at", UtcDateTime),  # last earn or redeem
    Column("purchase_count", Integer, nullable=False, server_default="0"),
    Column("welcome_given", Boolean, nullable=False, server_default="0"),
    Column("double_day", Date),
    Column("cap_day", Date),
    Column("cap_day_points", Integer, nullable=False, server_default="0"),
    Column("cap_month", Integer, nullable=False, server_default="0"),
    Column("cap_month_points", Integer, nullable=False, server_default="0"),
    Column("available", BigId, nullable=False, server_default="0"),
    Column("pending", BigId, nullable=False, server_default="0"),
    Column("lifetime_earned", BigId, nullable=False, server_default="0"),
    UniqueConstraint("customer_id", "program"),
    CheckConstraint("available >= 0", name="available_not_negative"),
    CheckConstraint("pending >= 0", name="pending_not_negative"),
    Index("ix_loyalty_members_program_tier", "program", "tier"),
    Index("ix_loyalty_members_program_last_activity_at", "program", "last_activity_at"),
)

loyalty_ledger = Table(
    "loyalty_ledger",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("member_id", ForeignKey("loyalty_members.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("pending_delta", BigId, nullable=False, server_default="0"),
    Column("available_delta", BigId, nullable=False, server_default="0"),
    Column("reason", String(500), nullable=False, server_default=""),
    Column("actor", String(200), nullable=False, server_default="system"),
    Column("event_id", ForeignKey("events.id", ondelete="SET NULL")),
    Column("lot_id", BigId),  # the credit a debit drew on (reverse, expire, mature)
    # Lot fields, set on credits only:
    Column("basis", BigId, nullable=False, server_default="0"),
    Column("line_points", BigId, nullable=False, server_default="0"),
    Column("lot_remaining", BigId),
    Column("matured", Boolean),
    Column("matures_at", UtcDateTime),
    Column("expires_at", UtcDateTime),
    CheckConstraint(
        "kind in ('earn','mature','redeem','expire','reverse','adjust','goodwill')", name="kind"
    ),
    CheckConstraint("lot_remaining is null or lot_remaining >= 0", name="lot_not_negative"),
    Index("ix_loyalty_ledger_member_id_kind", "member_id", "kind"),
    Index("ix_loyalty_ledger_event_id", "event_id"),
    Index("ix_loyalty_ledger_matured_matures_at", "matured", "matures_at"),
    Index("ix_loyalty_ledger_expires_at", "expires_at"),
)

loyalty_qualifying = Table(
    "loyalty_qualifying",
    metadata,
    Column("member_id", ForeignKey("loyalty_members.id", ondelete="CASCADE"), primary_key=True),
    Column("month", Integer, primary_key=True),  # yyyymm
    Column("spend", BigId, nullable=False, server_default="0"),
    Column("points", BigId, nullable=False, server_default="0"),
)

loyalty_rewards = Table(
    "loyalty_rewards",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("program", String(60), nullable=False),
    Column("code", String(60), nullable=False),
    Column("stock_left", Integer),  # NULL: unlimited
    Column("redeemed", Integer, nullable=False, server_default="0"),
    UniqueConstraint("program", "code"),
    CheckConstraint("stock_left is null or stock_left >= 0", name="stock_not_negative"),
)

loyalty_redemptions = Table(
    "loyalty_redemptions",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("member_id", ForeignKey("loyalty_members.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("program", String(60), nullable=False),
    Column("reward", String(60), nullable=False),
    Column("points", BigId, nullable=False),
    Column("value", BigId, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("entry_id", BigId, nullable=False),
    Column("location_id", ForeignKey("locations.id", ondelete="SET NULL")),
    Index("ix_loyalty_redemptions_member_id_reward", "member_id", "reward"),
    Index("ix_loyalty_redemptions_at", "at"),
)

loyalty_goodwill = Table(
    "loyalty_goodwill",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("program", String(60), nullable=False),
    Column("points", BigId, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("status", String(12), nullable=False),
    Column("requested_by", String(200), nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("decided_by", String(200)),
    Column("decided_at", UtcDateTime),
    Column("decision_note", String(500), nullable=False, server_default=""),
    Column("event_id", ForeignKey("events.id", ondelete="SET NULL")),
    CheckConstraint("status in ('granted','requested','approved','declined')", name="status"),
    CheckConstraint("points > 0", name="points_positive"),
    Index("ix_loyalty_goodwill_status", "status"),
    Index("ix_loyalty_goodwill_customer_id", "customer_id"),
)

__all__ = [
    "loyalty_goodwill",
    "loyalty_ledger",
    "loyalty_members",
    "loyalty_programs",
    "loyalty_qualifying",
    "loyalty_redemptions",
    "loyalty_rewards",
]
