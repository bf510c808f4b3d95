"""The planner's messages, queued in the outbox set-based.

``enqueue_message`` (services/outbox.py) queues one message at a time, with a customer
lookup and a statement per row: right for a single send decision, too slow for the few
thousand a daily plan over a million customers queues. This writes the same rows (same
key, the template checked by ``known_template``, the context the planner filled from
``needed_context``, the same "a key already queued is left alone" rule) in one statement
per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from regulars.domain.errors import FieldProblem, InvalidInput
from regulars.services.outbox import known_template
from regulars.store.bulk import db_json, db_time
from regulars.store.outbox_tables import outbox


@dataclass(frozen=True)
class PlannedMessage:
    key: str
    customer_id: int
    channel: str
    moment: str
    template: str
    context: dict[str, str | int | None]
    send_after: datetime
    decision_id: int


def queue_planned_messages(conn: Connection, messages: Sequence[PlannedMessage]) -> int:
    """Insert the messages; keys already in the outbox stay as they are. Returns the count."""
    if not messages:
        return 0
    checked: dict[tuple[str, str], list[str]] = {}
    for message in messages:
        pair = (message.template, message.channel)
        if pair not in checked:
            checked[pair] = known_template(*pair)
        if checked[pair] or message.send_after.tzinfo is None:
            reason = "; ".join(checked[pair]) or "send_after needs a time zone"
            raise InvalidInput([FieldProblem("template", reason)])
    dialect = conn.dialect.name
    rows = [
        (
            m.key,
            m.customer_id,
            m.channel,
            m.moment,
            m.template,
            db_json(m.context),
            m.decision_id,
            "queued",
            0,
            db_time(dialect, m.send_after),
            db_time(dialect, m.send_after),
            db_time(dialect, m.send_after),
            db_time(dialect, m.send_after),
        )
        for m in messages
    ]
    mark = "%s" if dialect == "postgresql" else "?"
    marks = [
        f"CAST({mark} AS jsonb)" if name == "context" and dialect == "postgresql" else mark
        for name in COLUMNS
    ]
    sql = (
        f"INSERT INTO {outbox.name} ({', '.join(COLUMNS)}) VALUES ({', '.join(marks)}) "  # noqa: S608 - our own table and column names; values are bound
        "ON CONFLICT (key) DO NOTHING"
    )
    for start in range(0, len(rows), 2000):
        conn.exec_driver_sql(sql, rows[start : start + 2000])
    return len(rows)


COLUMNS = (
    "key",
    "customer_id",
    "channel",
    "moment",
    "template",
    "context",
    "decision_id",
    "status",
    "attempts",
    "send_after",
    "next_attempt_at",
    "created_at",
    "updated_at",
)
