"""The planner's tables: decisions (one per customer, moment and occasion) and staff tasks.

A decision is written once under its key; re-planning the same day finds the key and
changes nothing. A staff task is the human half of a decision: a call, a prompt at the
counter valid for some days, or a handwritten card, with its assignee and brief.
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
    Text,
    UniqueConstraint,
)

from regulars.store.tables import customers, metadata
from regulars.store.types import BigId, Json, UtcDateTime

plan_decisions = Table(
    "plan_decisions",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("moment", String(40), nullable=False),
    Column("occasion", String(120), nullable=False),
    Column("plan_date", Date, nullable=False),
    Column("location_id", ForeignKey("locations.id", ondelete="SET NULL")),
    Column("status", String(20), nullable=False),
    Column("touch", String(20)),  # call | in_person | card | email | sms; null when none
    Column("purpose", String(20), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("assignee_staff_id", ForeignKey("staff.id", ondelete="SET NULL")),
    Column("send_after", UtcDateTime),
    Column("due_on", Date),
    Column("merged_into_id", ForeignKey("plan_decisions.id", ondelete="SET NULL")),
    Column("detail", String(300), nullable=False, server_default=""),
    Column("reasons", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("customer_id", "moment", "occasion"),
    CheckConstraint(
        "status in ('planned','deferred','suppressed','merged','skipped')", name="status"
    ),
    Index("ix_plan_decisions_plan_date", "plan_date"),
    Index("ix_plan_decisions_customer_id_plan_date", "customer_id", "plan_date"),
)

staff_tasks = Table(
    "staff_tasks",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("decision_id", ForeignKey("plan_decisions.id", ondelete="SET NULL")),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),  # call | in_person | card
    Column("moment", String(40), nullable=False),
    Column("assignee_staff_id", ForeignKey("staff.id", ondelete="SET NULL")),
    Column("location_id", ForeignKey("locations.id", ondelete="SET NULL")),
    Column("due_on", Date, nullable=False),
    Column("valid_until", Date),
    Column("status", String(20), nullable=False, server_default="open"),
    Column("attempt", Integer, nullable=False, server_default="1"),
    Column("summary", String(500), nullable=False, server_default=""),
    Column("brief", Json),
    Column("outcome", String(20)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
    CheckConstraint("kind in ('call','in_person','card')", name="kind"),
    CheckConstraint("status in ('open','done','cancelled','expired')", name="status"),
    Index("ix_staff_tasks_assignee_staff_id_status", "assignee_staff_id", "status"),
    Index("ix_staff_tasks_customer_id_status", "customer_id", "status"),
    Index("ix_staff_tasks_due_on", "due_on"),
)

#: The planner's playbook file, stored as text so every worker plans with the same rules.
playbook_files = Table(
    "playbook_files",
    metadata,
    Column("name", String(60), primary_key=True),
    Column("text", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: Membership anniversaries are found by per-year ranges on the enrolment date.
Index("ix_customers_created_at", customers.c.created_at)

#: Lapsing regulars are the one moment found by a pass over every customer; this narrow
#: covering index makes that pass read a few dozen bytes per customer instead of the row.
Index(
    "ix_customers_lapsing",
    customers.c.last_visit_at,
    customers.c.purchase_count,
    customers.c.last_purchase_at,
    customers.c.created_at,
    customers.c.home_location_id,
    customers.c.status,
)

__all__ = ["plan_decisions", "playbook_files", "staff_tasks"]
