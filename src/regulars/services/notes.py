"""Personal notes: the barista's twenty-second microconnection, kept for the next person.

A note is an event on the customer's timeline (type ``note``), written by a member of staff
about a customer they may see. The console's form carries a one-time key, so a double tap
or a retried post is still one note.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from regulars.domain.access import Actor
from regulars.domain.errors import FieldProblem, InvalidInput, validate
from regulars.domain.events import Note
from regulars.services.access import access_customer, require
from regulars.services.ingest import append_events
from regulars.store import audit
from regulars.store.uow import UnitOfWork

SOURCE = "console"


def add_note(
    uow: UnitOfWork,
    actor: Actor,
    customer_id: int,
    text: str,
    *,
    now: datetime,
    key: str | None = None,
    location: str | None = None,
) -> int | None:
    """Write a note on the customer's timeline; the same ``key`` twice writes it once.

    Returns the new event's id, or None when the key had already been used.
    """
    require(actor, "customers:write")
    external_id = f"note:{key}" if key else f"note:{uuid.uuid4().hex}"
    data: dict[str, object] = {
        "type": "note",
        "source": SOURCE,
        "external_id": external_id[:120],
        "occurred_at": now,
        "customer_id": customer_id,
        "text": text,
    }
    if location:
        data["location"] = location
    if actor.kind == "staff" and actor.id is not None:
        data["staff_id"] = actor.id
    note = validate(Note, data)
    with uow:
        access_customer(uow.conn, actor, customer_id)
        report, _ = append_events(uow.conn, [note.model_dump(mode="json")], now=now)
        result = report.results[0]
        if result.status == "rejected":
            raise InvalidInput(list(result.errors) or [FieldProblem("text", "not accepted")])
        if result.status == "duplicate":
            return None
        audit.record(
            uow.conn,
            at=now,
            actor=actor.label,
            action="note.add",
            entity="customer",
            entity_id=customer_id,
            after={"event_id": result.event_id, "text": note.text},
        )
        uow.commit()
    return result.event_id
