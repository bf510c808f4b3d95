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
from sqlalchemy.dialects import postgresql, sqlite

from regulars.domain.errors import FieldProblem, InvalidInput
from regulars.services.outbox import known_template
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
    rows = [
        {
            "key": m.key,
            "customer_id": m.customer_id,
            "channel": m.channel,
            "moment": m.moment,
            "template": m.template,
            "context": m.context,
            "decision_id": m.decision_id,
            "status": "queued",
            "attempts": 0,
            "send_after": m.send_after,
            "next_attempt_at": m.send_after,
            "created_at": m.send_after,
            "updated_at": m.send_after,
        }
        for m in messages
    ]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(outbox).on_conflict_do_nothing(index_elements=["key"])
    for start in range(0, len(rows), 2000):
        conn.execute(statement, rows[start : start + 2000])
    return len(rows)
