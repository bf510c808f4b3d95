"""``ingest_events``: the one way events get onto customers' timelines.

The API, CSV import, the demo generator and the loyalty and planning services all append
through here. A batch is validated item by item (each item gets ``created``, ``duplicate``
or ``rejected`` with the field and reason); the valid ones are written set-based in one
transaction; the rejected ones write nothing. The same (source, external_id) twice is one
event, whether the repeat comes in the same batch or a year later.
"""

from __future__ import annotations

import gc
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from regulars.domain.customers import normalise_card_number
from regulars.domain.errors import FieldProblem
from regulars.domain.events import (
    EventBase,
    Purchase,
    Return,
    parse_event,
    payload_json,
)
from regulars.domain.returns import ReturnSettlement, settle_return
from regulars.services.loyalty import apply_ingested
from regulars.store import lookups
from regulars.store.bulk import db_time, insert_rows, update_rows
from regulars.store.ids import allocate_ids
from regulars.store.tables import customers, events
from regulars.store.uow import UnitOfWork

Status = Literal["created", "duplicate", "rejected"]

EVENT_COLUMNS = (
    "id",
    "customer_id",
    "type",
    "occurred_at",
    "location_id",
    "staff_id",
    "source",
    "external_id",
    "ref_event_id",
    "amount",
    "payload",
    "recorded_at",
)

#: Per-customer facts the planner reads set-based; sums and maxima, so order-independent.
#: SQLite's two-argument max() is NULL when either side is, hence the coalesce pairs.
FACTS_SQL = {
    "sqlite": "UPDATE customers SET purchase_count = purchase_count + ?, "
    "lifetime_spend = lifetime_spend + ?, "
    "last_purchase_at = max(coalesce(last_purchase_at, ?), coalesce(?, last_purchase_at)), "
    "last_visit_at = max(coalesce(last_visit_at, ?), coalesce(?, last_visit_at)) WHERE id = ?",
    "postgresql": "UPDATE customers SET purchase_count = purchase_count + %s, "
    "lifetime_spend = lifetime_spend + %s, "
    "last_purchase_at = GREATEST(last_purchase_at, CAST(%s AS timestamptz)), "
    "last_visit_at = GREATEST(last_visit_at, CAST(%s AS timestamptz)) WHERE id = %s",
}

#: Event types that mean the customer was physically there.
VISIT_TYPES = frozenset({"visit", "greeted"})


@dataclass(frozen=True)
class ItemResult:
    """What became of one submitted item, in submission order."""

    index: int
    status: Status
    event_id: int | None = None
    errors: tuple[FieldProblem, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status}
        if self.event_id is not None:
            out["event_id"] = self.event_id
        if self.errors:
            out["errors"] = [{"field": p.field, "message": p.message} for p in self.errors]
        return out


@dataclass
class IngestReport:
    results: list[ItemResult] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def created(self) -> int:
        return self.count("created")

    @property
    def duplicates(self) -> int:
        return self.count("duplicate")

    @property
    def rejected(self) -> int:
        return self.count("rejected")


class IngestedEvent(NamedTuple):
    """An event as it now stands on the timeline, handed to whatever reacts to new events.

    A named tuple: as immutable as a frozen dataclass, and made in a third of the time (one
    per ingested event).
    """

    id: int
    customer_id: int | None
    location_id: int | None
    event: EventBase
    settlement: ReturnSettlement | None = None
    purchase_event_id: int | None = None
    amount: int | None = None  # money that changed hands: net paid, or −refund
    #: ``occurred_at`` as the driver stores it (``db_time``: UTC text on SQLite), formatted
    #: once here for the events row, the customer facts and the loyalty ledger.
    occurred_db: Any = None


def ingest_events(uow: UnitOfWork, items: Sequence[Any], *, now: datetime) -> IngestReport:
    """Validate and append a batch of events in one transaction; see the module docstring.

    The cycle collector stays paused until the batch's events are freed too, so that when it
    resumes it has only the report left to look at.
    """
    # The unit of work first: a batch queued behind SQLite's writer must not keep the
    # collector paused for the whole process while it waits.
    with uow, paused_garbage_collection():
        report = append_events(uow.conn, items, now=now)[0]
        uow.commit()
    return report


def append_events(
    conn: Connection, items: Sequence[Any], *, now: datetime, not_after: datetime | None = None
) -> tuple[IngestReport, list[IngestedEvent]]:
    """Ingest inside a transaction the caller owns (used by services that write events too).

    ``not_after`` refuses events said to happen later than it (``occurred_at``): callers
    taking events from outside pass a little after ``now``, so that a till whose clock is
    years ahead cannot date a customer's last purchase, which is kept as a maximum, into
    the future for good.
    """
    batch = _Batch(conn, now, not_after)
    return batch.run(items)


class _Batch:
    """One ingest batch: parse, resolve references set-based, write set-based."""

    def __init__(self, conn: Connection, now: datetime, not_after: datetime | None) -> None:
        self.conn = conn
        self.now = now
        self.not_after = not_after
        self.results: dict[int, ItemResult] = {}
        self.echoes: list[tuple[int, int]] = []  # (repeat, its first) within this batch

    def reject(self, index: int, problems: Sequence[FieldProblem]) -> None:
        self.results[index] = ItemResult(index, "rejected", errors=tuple(problems))

    def run(self, items: Sequence[Any]) -> tuple[IngestReport, list[IngestedEvent]]:
        with paused_garbage_collection():
            return self._run(items)

    def _run(self, items: Sequence[Any]) -> tuple[IngestReport, list[IngestedEvent]]:
        parsed: list[tuple[int, EventBase]] = []
        not_after = self.not_after
        for index, raw in enumerate(items):
            outcome = parse_event(raw)
            if isinstance(outcome, list):
                self.reject(index, outcome)
            elif not_after is not None and outcome.occurred_at > not_after:
                self.reject(index, [_too_late(not_after)])
            else:
                parsed.append((index, outcome))

        fresh = self._drop_duplicates(parsed)
        resolved = self._resolve(fresh)
        ingested = self._write(self._settle_returns(resolved))
        self._name_echoes()
        report = IngestReport([self.results[i] for i in range(len(items))])
        return report, [event for _, event in ingested]

    def _drop_duplicates(self, parsed: list[tuple[int, EventBase]]) -> list[tuple[int, EventBase]]:
        """Items already on the timeline, or repeated in this batch, are ``duplicate`` and
        name the event they repeat (a repeat within the batch once its first is written)."""
        keys = [(e.source, e.external_id) for _, e in parsed]
        stored = lookups.stored_event_ids(self.conn, keys)
        first: dict[tuple[str, str], int] = {}
        fresh: list[tuple[int, EventBase]] = []
        for item, key in zip(parsed, keys, strict=True):
            index = item[0]
            if key in stored:
                self.results[index] = ItemResult(index, "duplicate", event_id=stored[key])
            elif key in first:
                self.results[index] = ItemResult(index, "duplicate")
                self.echoes.append((index, first[key]))
            else:
                first[key] = index
                fresh.append(item)
        return fresh

    def _name_echoes(self) -> None:
        """A repeat within the batch names the event its first occurrence became."""
        for index, original in self.echoes:
            written = self.results[original]
            if written.status == "created":
                self.results[index] = ItemResult(index, "duplicate", event_id=written.event_id)

    def _resolve(
        self, fresh: list[tuple[int, EventBase]]
    ) -> list[tuple[int, EventBase, int | None, int | None]]:
        by_id, by_card = self._customers(fresh)
        while self.conn.dialect.name == "postgresql" and not self._still_there(by_id, by_card):
            by_id, by_card = self._customers(fresh)  # merged meanwhile: follow the merge
        places = lookups.location_ids(self.conn)
        people = lookups.staff_ids(self.conn, [e.staff_id for _, e in fresh if e.staff_id])
        out: list[tuple[int, EventBase, int | None, int | None]] = []
        for index, event in fresh:
            problems: list[FieldProblem] = []
            ref: lookups.CustomerRef | None = None
            if event.customer_id is not None:
                ref = by_id.get(event.customer_id)
                if ref is None:
                    problems.append(FieldProblem("customer_id", "no such customer"))
            elif event.card_number is not None:
                ref = by_card.get(_card(event.card_number))
                if ref is None:
                    problems.append(FieldProblem("card_number", "no customer has this card"))
            if ref is not None and ref.status == "erased":
                field_name = "customer_id" if event.customer_id is not None else "card_number"
                problems.append(FieldProblem(field_name, "this customer's data was erased"))
            location_id: int | None = None
            if event.location is not None:
                location_id = places.get(event.location)
                if location_id is None:
                    problems.append(
                        FieldProblem("location", f"unknown location {event.location!r}")
                    )
            if event.staff_id is not None and event.staff_id not in people:
                problems.append(FieldProblem("staff_id", "no such member of staff"))
            if problems:
                self.reject(index, problems)
                continue
            customer_id = ref.id if ref is not None else None
            out.append((index, event, customer_id, location_id))
        return out

    def _customers(
        self, fresh: list[tuple[int, EventBase]]
    ) -> tuple[dict[int, lookups.CustomerRef], dict[str, lookups.CustomerRef]]:
        """The customers the events name, by id and by card, merges followed."""
        by_id = lookups.customers_by_id(
            self.conn, [e.customer_id for _, e in fresh if e.customer_id is not None]
        )
        by_card = lookups.customers_by_card(
            self.conn, [_card(e.card_number) for _, e in fresh if e.card_number is not None]
        )
        return by_id, by_card

    def _still_there(
        self, by_id: dict[int, lookups.CustomerRef], by_card: dict[str, lookups.CustomerRef]
    ) -> bool:
        """Share-lock the resolved customers until commit; False if one changed meanwhile.

        A merge locks both profiles exclusively (``customers.merge_customers``). Holding a
        key-share lock from here on makes a merge wait for this batch, so that it moves
        these events and points along; a merge that committed while this batch resolved
        shows here as a changed status, and the references are resolved again.
        """
        resolved = {ref.id: ref.status for ref in (*by_id.values(), *by_card.values())}
        now_status: dict[int, str] = {}
        for part in lookups.chunked(sorted(resolved)):
            now_status |= dict(
                self.conn.execute(
                    select(customers.c.id, customers.c.status)
                    .where(customers.c.id.in_(part))
                    .order_by(customers.c.id)
                    .with_for_update(read=True, key_share=True)
                ).all()
            )
        return now_status == resolved

    def _settle_returns(
        self, resolved: list[tuple[int, EventBase, int | None, int | None]]
    ) -> list[tuple[int, IngestedEvent]]:
        """Check each return against its purchase (stored or in this batch) and value it."""
        returns = [(i, e) for i, e, _, _ in resolved if isinstance(e, Return)]
        in_batch: dict[tuple[str, str], tuple[int, Purchase, int | None]] = {}
        stored: dict[tuple[str, str], tuple[int, int | None, str, dict[str, object]]] = {}
        returned_before: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        ids = allocate_ids(self.conn, events, len(resolved))  # in the order of ``resolved``
        if returns:
            for (_, event, customer_id, _), event_id in zip(resolved, ids, strict=True):
                if isinstance(event, Purchase):
                    in_batch[(event.source, event.external_id)] = (event_id, event, customer_id)
            wanted = [
                (e.source, e.purchase_external_id) for _, e in returns if isinstance(e, Return)
            ]
            stored = lookups.events_by_key(self.conn, wanted)
            purchase_ids = [row[0] for row in stored.values()]
            for ref_id, payload in _returns_of(self.conn, purchase_ids):
                for line in payload.get("lines", []):
                    returned_before[ref_id][line["sku"]] += int(line["quantity"])

        out: list[tuple[int, IngestedEvent]] = []
        dialect = self.conn.dialect.name
        for (index, event, customer_id, location_id), event_id in zip(resolved, ids, strict=True):
            settlement: ReturnSettlement | None = None
            purchase_id: int | None = None
            if isinstance(event, Return):
                key = (event.source, event.purchase_external_id)
                purchase: Purchase | None = None
                owner: int | None = None
                if key in in_batch:
                    purchase_id, purchase, owner = in_batch[key]
                elif key in stored and stored[key][2] == "purchase":
                    purchase_id, owner, _, payload = stored[key]
                    purchase = Purchase.model_validate(
                        {**payload, **_envelope_stub(event), "type": "purchase"}
                    )
                if purchase is None or purchase_id is None:
                    self.reject(index, [FieldProblem("purchase_external_id", "no such purchase")])
                    continue
                if owner != customer_id:
                    self.reject(
                        index,
                        [
                            FieldProblem(
                                "purchase_external_id", "the purchase is another customer's"
                            )
                        ],
                    )
                    continue
                outcome = settle_return(purchase, returned_before[purchase_id], event)
                if isinstance(outcome, list):
                    self.reject(index, outcome)
                    continue
                settlement = outcome
                if event.refund is not None and event.refund > settlement.refund:
                    # More money back than was paid for these units: a typo at the till
                    # would take a customer's lifetime spend (and tier) below what they paid.
                    self.reject(index, [_refund_too_large(settlement.refund)])
                    continue
                for line in event.lines:
                    returned_before[purchase_id][line.sku] += line.quantity
                if event.refund is None:
                    event = event.model_copy(update={"refund": settlement.refund})
            self.results[index] = ItemResult(index, "created", event_id=event_id)
            out.append(
                (
                    index,
                    IngestedEvent(
                        event_id,
                        customer_id,
                        location_id,
                        event,
                        settlement,
                        purchase_id,
                        _amount(event),
                        db_time(dialect, event.occurred_at),
                    ),
                )
            )
        return out

    def _write(self, ingested: list[tuple[int, IngestedEvent]]) -> list[tuple[int, IngestedEvent]]:
        """Write the events, then what follows from them; returns those really written."""
        if not ingested:
            return ingested
        dialect = self.conn.dialect.name
        recorded = db_time(dialect, self.now)
        rows = [
            (
                item.id,
                item.customer_id,
                item.event.type,  # type: ignore[attr-defined]
                item.occurred_db,
                item.location_id,
                item.event.staff_id,
                item.event.source,
                item.event.external_id,
                item.purchase_event_id,
                item.amount,
                payload_json(item.event),
                recorded,
            )
            for _, item in ingested
        ]
        ingested = self._insert_events(ingested, rows)
        _update_customer_facts(self.conn, [item for _, item in ingested])
        apply_ingested(self.conn, [e for _, e in ingested], self.now)
        return ingested

    def _insert_events(
        self, ingested: list[tuple[int, IngestedEvent]], rows: list[tuple[Any, ...]]
    ) -> list[tuple[int, IngestedEvent]]:
        """Insert the rows; on PostgreSQL, lose a race for an event key as a duplicate.

        SQLite's writers hold the lock from BEGIN, so nothing can come between the duplicate
        check and the insert. On PostgreSQL a concurrent transaction can write the same
        (source, external_id) meanwhile (a till retrying a check-in): the insert then waits
        for it and fails on the unique key. The batch rolls back to a savepoint, reports
        what the other transaction wrote as ``duplicate`` and writes the rest.
        """
        if self.conn.dialect.name != "postgresql":
            insert_rows(self.conn, events, EVENT_COLUMNS, rows)
            return ingested
        while ingested:
            savepoint = self.conn.begin_nested()
            try:
                insert_rows(self.conn, events, EVENT_COLUMNS, rows)
            except IntegrityError:
                savepoint.rollback()
                keys = [(item.event.source, item.event.external_id) for _, item in ingested]
                taken = lookups.stored_event_ids(self.conn, keys)
                if not taken:
                    raise  # not a lost race: a real fault
                kept = [n for n, key in enumerate(keys) if key not in taken]
                for n, key in enumerate(keys):
                    if key in taken:
                        index = ingested[n][0]
                        self.results[index] = ItemResult(index, "duplicate", taken[key])
                ingested = [ingested[n] for n in kept]
                rows = [rows[n] for n in kept]
                continue
            savepoint.commit()
            break
        return ingested


def _card(number: str) -> str:
    """A card number as stored; one that cannot be valid is kept as typed (and not found)."""
    try:
        return normalise_card_number(number)
    except ValueError:
        return number


def _too_late(not_after: datetime) -> FieldProblem:
    return FieldProblem(
        "occurred_at",
        f"is after {not_after.isoformat()}, which has not happened yet: check the sender's clock",
    )


def _refund_too_large(paid: int) -> FieldProblem:
    return FieldProblem(
        "refund", f"is more than was paid for the returned lines ({paid} minor units)"
    )


def _envelope_stub(event: EventBase) -> dict[str, Any]:
    """Envelope fields to rebuild a stored purchase's payload as a model (values unused)."""
    return {
        "source": event.source,
        "external_id": "stored",
        "occurred_at": event.occurred_at,
        "customer_id": 1,
    }


def _returns_of(conn: Connection, purchase_ids: list[int]) -> list[tuple[int, dict[str, Any]]]:
    out: list[tuple[int, dict[str, Any]]] = []
    for part in lookups.chunked(sorted(set(purchase_ids))):
        rows = conn.execute(
            select(events.c.ref_event_id, events.c.payload).where(
                events.c.type == "return", events.c.ref_event_id.in_(part)
            )
        )
        out.extend(
            (ref, payload if isinstance(payload, dict) else json.loads(payload))
            for ref, payload in rows
        )
    return out


def _update_customer_facts(conn: Connection, ingested: list[IngestedEvent]) -> None:
    """Keep the planner's per-customer facts (last visit, purchases, spend) current, set-based.

    Sums and maxima only, so the result does not depend on the order events arrive in. The
    maxima are taken over the times as stored (``occurred_db``): on SQLite that is
    fixed-width UTC text, whose order is time order, so nothing is formatted twice.
    """
    facts: dict[int, list[Any]] = {}  # customer id → [purchases, spend, bought, visited]
    for item in ingested:
        cid = item.customer_id
        if cid is None:
            continue
        event = item.event
        at = item.occurred_db
        if isinstance(event, Purchase):
            fact = facts.get(cid)
            if fact is None:
                fact = facts[cid] = [0, 0, None, None]
            fact[0] += 1
            fact[1] += item.amount or 0
            if fact[2] is None or at > fact[2]:
                fact[2] = at
            if event.channel == "in_store" and (fact[3] is None or at > fact[3]):
                fact[3] = at
            continue
        is_visit = event.type in VISIT_TYPES  # type: ignore[attr-defined]
        if not (is_visit or isinstance(event, Return)):
            continue
        fact = facts.get(cid)
        if fact is None:
            fact = facts[cid] = [0, 0, None, None]
        fact[1] += item.amount or 0
        if is_visit and (fact[3] is None or at > fact[3]):
            fact[3] = at
    rows: list[tuple[Any, ...]]
    if conn.dialect.name == "sqlite":
        rows = [(n, spend, b, b, v, v, cid) for cid, (n, spend, b, v) in facts.items()]
    else:
        rows = [(n, spend, b, v, cid) for cid, (n, spend, b, v) in facts.items()]
    update_rows(conn, FACTS_SQL, rows)


@contextmanager
def paused_garbage_collection() -> Iterator[None]:
    """Pause Python's cycle collector for one bounded batch.

    A batch allocates hundreds of thousands of short-lived objects, all freed by reference
    counting; the cycle collector would otherwise re-scan every live object over and over
    and cost ingest a third of its time. Memory stays bounded by the batch size, and the
    collector resumes (and catches up) when the batch is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _amount(event: EventBase) -> int | None:
    """Money that changed hands: a purchase's net (positive), a return's refund (negative)."""
    if isinstance(event, Purchase):
        return event.net_total
    if isinstance(event, Return):
        return -(event.refund or 0)
    return None


__all__ = [
    "IngestReport",
    "IngestedEvent",
    "ItemResult",
    "append_events",
    "ingest_events",
]
