"""Events arriving from an integration or a person: ingest, limited to what the caller may reach.

``ingest_events`` trusts its caller (the demo, the CSV import, the loyalty engine). An API
key or a member of staff may only add events for customers and at locations of their own;
items beyond that are rejected as if the customer did not exist, so nobody can probe which
ids exist elsewhere. The batch is audited as one entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from regulars.domain.access import Actor
from regulars.domain.customers import normalise_card_number
from regulars.domain.errors import FieldProblem, InvalidInput
from regulars.domain.events import EventBase, parse_event
from regulars.services.access import reaches_location, require, unreachable_customers
from regulars.services.ingest import IngestReport, ItemResult, append_events
from regulars.store import audit, lookups
from regulars.store.uow import UnitOfWork

MAX_BATCH = 1000
#: How far ahead of our clock an event may be dated: tills' clocks drift, years do not.
CLOCK_SLACK = timedelta(hours=1)


def record_events(
    uow: UnitOfWork, actor: Actor, items: Sequence[Any], *, now: datetime
) -> IngestReport:
    """Ingest a batch on behalf of ``actor``; see the module docstring."""
    require(actor, "events:write")
    if len(items) > MAX_BATCH:
        raise InvalidInput(
            [FieldProblem("events", f"a batch holds at most {MAX_BATCH} events; split it")]
        )
    with uow:
        conn = uow.conn
        refused = out_of_reach(conn, actor, items)
        allowed = [(i, item) for i, item in enumerate(items) if i not in refused]
        report, _ = append_events(
            conn, [item for _, item in allowed], now=now, not_after=now + CLOCK_SLACK
        )
        results: dict[int, ItemResult] = {
            i: ItemResult(i, "rejected", errors=(problem,)) for i, problem in refused.items()
        }
        for (index, _), result in zip(allowed, report.results, strict=True):
            results[index] = ItemResult(index, result.status, result.event_id, result.errors)
        merged = IngestReport([results[i] for i in range(len(items))])
        audit_batch(conn, actor, merged, now=now, action="events.ingest")
        uow.commit()
    return merged


def audit_batch(
    conn: Connection, actor: Actor, report: IngestReport, *, now: datetime, action: str
) -> None:
    """One audit entry for a batch that added events (the first 200 ids; the rest follow)."""
    if not report.created:
        return
    audit.record(
        conn,
        at=now,
        actor=actor.label,
        action=action,
        entity="events",
        entity_id=f"batch of {len(report.results)}",
        after={
            "created": report.created,
            "duplicates": report.duplicates,
            "rejected": report.rejected,
            "event_ids": [r.event_id for r in report.results if r.event_id][:200],
        },
    )


def out_of_reach(conn: Connection, actor: Actor, items: Sequence[Any]) -> dict[int, FieldProblem]:
    """Items (by index) naming a customer or location outside the actor's locations.

    Each item is judged as ingest will read it (parsed, so ``"42"`` and ``42.0`` are the
    customer 42 and ``" CAFE-POR "`` is CAFE-POR), never on the raw spelling, which would let
    another location's customer through under a spelling the check did not expect. Items
    that do not parse are left to ingest, which rejects them by field.
    """
    if actor.locations is None:
        return {}
    events: list[tuple[int, EventBase]] = []
    for index, item in enumerate(items):
        outcome = parse_event(item)
        if not isinstance(outcome, list):
            events.append((index, outcome))
    ids = [e.customer_id for _, e in events if e.customer_id is not None]
    cards = [card for _, e in events if (card := _card(e.card_number))]
    by_id = lookups.customers_by_id(conn, ids)
    by_card = lookups.customers_by_card(conn, cards)
    outside = unreachable_customers(
        conn, actor, [r.id for r in (*by_id.values(), *by_card.values())]
    )
    places = lookups.location_ids(conn)
    refused: dict[int, FieldProblem] = {}
    for index, event in events:
        cid, card, where = event.customer_id, event.card_number, event.location
        if cid is not None and cid in by_id:
            if by_id[cid].id in outside:
                refused[index] = FieldProblem("customer_id", "no such customer")
                continue
        elif card is not None:
            ref = by_card.get(_card(card) or "")
            if ref is not None and ref.id in outside:
                refused[index] = FieldProblem("card_number", "no customer has this card")
                continue
        elif cid is None and event.customer_optional:
            refused[index] = FieldProblem("type", "only the whole business can record a recall")
            continue
        if where is not None and where in places and not reaches_location(actor, places[where]):
            refused[index] = FieldProblem("location", "this location is not yours")
    return refused


def _card(value: object) -> str | None:
    """The card number as stored, or None for what cannot be one (ingest rejects it)."""
    if not isinstance(value, str):
        return None
    try:
        return normalise_card_number(value)
    except ValueError:
        return None


__all__ = ["MAX_BATCH", "audit_batch", "out_of_reach", "record_events"]
