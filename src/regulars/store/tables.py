"""The core tables: the business (locations, staff), customers and their timeline.

Schema lives here and in sibling modules (``loyalty_tables``, ``planner_tables`` …), all on
one ``metadata``; Alembic migrations are generated from it and checked against it in tests.
Tables are Core tables: the hot paths (ingest, planning, check-in) are set-based queries.
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
    MetaData,
    String,
    Table,
    Time,
    UniqueConstraint,
)

from regulars.store.types import BigId, Json, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

locations = Table(
    "locations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("brand", String(120), nullable=False, server_default=""),
    Column("kind", String(40), nullable=False, server_default="shop"),
    Column("timezone", String(64), nullable=False),
    Column("currency", String(3), nullable=False, server_default="EUR"),
    Column("city", String(120), nullable=False, server_default=""),
    Column("plan_hour", Integer, nullable=False, server_default="6"),
)

staff = Table(
    "staff",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("daily_call_capacity", Integer, nullable=False, server_default="0"),
    Column("working_days", String(40), nullable=False, server_default="mon,tue,wed,thu,fri"),
    Column("password_hash", String(200)),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("role in ('owner','manager','staff','rep')", name="role"),
    CheckConstraint("daily_call_capacity >= 0", name="capacity"),
)

staff_locations = Table(
    "staff_locations",
    metadata,
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("location_id", ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True),
)

households = Table(
    "households",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(200), nullable=False, server_default=""),
)

#: Name keys (``domain.customers.name_key``) compare byte by byte, so that a prefix is an
#: index range on PostgreSQL whatever the database's collation (SQLite compares bytes anyway).
NameKey = String(240).with_variant(String(240, collation="C"), "postgresql")

customers = Table(
    "customers",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("card_number", String(40), unique=True),
    Column("first_name", String(120), nullable=False),
    Column("last_name", String(120), nullable=False, server_default=""),
    # name_key(first_name) and name_key(last_name), kept by services.customers for search
    Column("search_first", NameKey, nullable=False, server_default=""),
    Column("search_last", NameKey, nullable=False, server_default=""),
    Column("email", String(254)),
    Column("phone", String(30)),
    Column("birthday", Date),
    Column("birthday_key", Integer),  # month*100+day, e.g. 229; the planner's index
    Column("language", String(8), nullable=False, server_default="en"),
    Column("preferred_channel", String(20)),
    Column("quiet_start", Time),
    Column("quiet_end", Time),
    Column("city", String(120), nullable=False, server_default=""),
    Column("status", String(20), nullable=False, server_default="active"),
    Column("owner_staff_id", ForeignKey("staff.id", ondelete="SET NULL")),
    Column("home_location_id", ForeignKey("locations.id", ondelete="SET NULL")),
    Column("household_id", ForeignKey("households.id", ondelete="SET NULL")),
    Column("merged_into_id", ForeignKey("customers.id", ondelete="SET NULL")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("last_visit_at", UtcDateTime),
    Column("last_purchase_at", UtcDateTime),
    Column("purchase_count", Integer, nullable=False, server_default="0"),
    Column("lifetime_spend", BigId, nullable=False, server_default="0"),  # minor units
    CheckConstraint(
        "status in ('active','do_not_contact','deceased','merged','erased')", name="status"
    ),
    Index("ix_customers_birthday_key", "birthday_key"),
    Index("ix_customers_last_name_first_name", "last_name", "first_name"),
    Index("ix_customers_search_first", "search_first"),
    Index("ix_customers_search_last", "search_last"),
    Index("ix_customers_email", "email"),
    Index("ix_customers_phone", "phone"),
    Index("ix_customers_home_location_id", "home_location_id"),
    Index("ix_customers_owner_staff_id", "owner_staff_id"),
    Index("ix_customers_household_id", "household_id"),
    Index("ix_customers_last_visit_at", "last_visit_at"),
)

customer_refs = Table(
    "customer_refs",
    metadata,
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("source", String(60), nullable=False),
    Column("external_id", String(120), nullable=False),
    UniqueConstraint("source", "external_id"),
    Index("ix_customer_refs_customer_id", "customer_id"),
)

consents = Table(
    "consents",
    metadata,
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("granted", Boolean, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("source", String(120), nullable=False),
)

household_members = Table(
    "household_members",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("household_id", ForeignKey("households.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", ForeignKey("customers.id", ondelete="SET NULL")),
    Column("name", String(120), nullable=False),
    Column("relation", String(20), nullable=False),
    Column("birthday", Date),
    Column("birthday_key", Integer),
    Index("ix_household_members_household_id", "household_id"),
    Index("ix_household_members_birthday_key", "birthday_key"),
)

assets = Table(
    "assets",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", ForeignKey("household_members.id", ondelete="SET NULL")),
    Column("kind", String(20), nullable=False),
    Column("label", String(200), nullable=False),
    Column("model_code", String(120), nullable=False, server_default=""),
    Column("acquired_on", Date),
    Column("service_due_on", Date),
    Column("details", Json, nullable=False),
    Index("ix_assets_customer_id", "customer_id"),
    Index("ix_assets_model_code", "model_code"),
    Index("ix_assets_service_due_on", "service_due_on"),
)

preferences = Table(
    "preferences",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(80), nullable=False),
    Column("value", String(500), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("customer_id", "label"),
)

events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE")),
    Column("type", String(30), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("location_id", ForeignKey("locations.id", ondelete="SET NULL")),
    Column("staff_id", ForeignKey("staff.id", ondelete="SET NULL")),
    Column("source", String(60), nullable=False),
    Column("external_id", String(120), nullable=False),
    Column("ref_event_id", ForeignKey("events.id", ondelete="SET NULL")),  # a return's purchase
    Column("amount", BigId),  # money that changed hands, minor units: net paid, −refund
    Column("payload", Json, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    UniqueConstraint("source", "external_id"),
    Index("ix_events_customer_id_occurred_at", "customer_id", "occurred_at"),
    Index("ix_events_type_occurred_at", "type", "occurred_at"),
    Index("ix_events_ref_event_id", "ref_event_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),  # "staff:12", "api_key:3", "cli", "system"
    Column("action", String(60), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("entity_id", String(60), nullable=False),
    Column("before", Json),
    Column("after", Json),
    Index("ix_audit_log_entity_entity_id", "entity", "entity_id"),
    Index("ix_audit_log_at", "at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("scope", String(60), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("response", Json, nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # The customer the answer is about (a profile, a check-in), so that erasure finds it.
    Column("customer_id", BigId),
    Index("ix_idempotency_keys_created_at", "created_at"),
    Index("ix_idempotency_keys_customer_id", "customer_id"),
)

__all__ = [
    "assets",
    "audit_log",
    "consents",
    "customer_refs",
    "customers",
    "events",
    "household_members",
    "households",
    "idempotency_keys",
    "locations",
    "metadata",
    "preferences",
    "staff",
    "staff_locations",
]
