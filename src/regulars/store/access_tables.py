"""Tables for signing in: console sessions, login attempts (for throttling) and API keys.

Secrets are never stored: a session is kept under the SHA-256 of its cookie value and an API
key under the SHA-256 of the key, so a copy of the database opens no doors.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table

from regulars.store.tables import metadata
from regulars.store.types import BigId, Json, UtcDateTime

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie value
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ip", String(64), nullable=False, server_default=""),
    Index("ix_staff_sessions_staff_id", "staff_id"),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("email", String(254), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Index("ix_login_attempts_email_at", "email", "at"),
    Index("ix_login_attempts_ip_at", "ip", "at"),
    Index("ix_login_attempts_at", "at"),  # clearing old attempts
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),  # shown in lists, not secret
    Column("key_hash", String(64), nullable=False),
    Column("role", String(20), nullable=False, server_default="staff"),
    Column("locations", Json),  # list of location ids; NULL: the whole business
    Column("permissions", Json),  # list of permission names; NULL: everything
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("revoked_at", UtcDateTime),
    Column("last_used_at", UtcDateTime),
)

__all__ = ["api_keys", "login_attempts", "staff_sessions"]
