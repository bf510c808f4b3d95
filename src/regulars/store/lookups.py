"""Set-based lookups that resolve what incoming data refers to: customers, locations, staff.

Ingest and import resolve a whole batch at once with ``IN`` queries, never row by row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from regulars.store.tables import customer_refs, customers, events, locations, staff

T = TypeVar("T")
CHUNK = 500


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class CustomerRef:
    """Where a reference landed: the live customer id (after following merges) and status."""

    id: int
    status: str


def _driver_rows(
    conn: Connection, sql: str, head: tuple[object, ...], part: Sequence[object]
) -> Sequence[Any]:
    """Rows of a query ending in ``IN ({marks})``, straight through the SQLite driver.

    Ingest resolves thousands of references per batch; SQLAlchemy's rendering of a large
    ``IN`` and its row processing cost more than SQLite's index lookups themselves.
    """
    marks = ", ".join("?" * len(part))
    return conn.exec_driver_sql(sql.format(marks=marks), (*head, *part)).fetchall()


_CUSTOMERS_BY_ID = "SELECT id, status, merged_into_id FROM customers WHERE id IN ({marks})"
_CUSTOMERS_BY_CARD = "SELECT card_number, id, status FROM customers WHERE card_number IN ({marks})"
_EVENT_KEYS = "SELECT external_id, id FROM events WHERE source = ? AND external_id IN ({marks})"


def customers_by_id(conn: Connection, ids: Iterable[int]) -> dict[int, CustomerRef]:
    """Resolve customer ids; a merged duplicate resolves to the customer it was merged into."""
    wanted = sorted(set(ids))
    found: dict[int, CustomerRef] = {}
    merged: dict[int, int] = {}
    sqlite = conn.dialect.name == "sqlite"
    rows: Sequence[Any]
    for part in chunked(wanted):
        if sqlite:
            rows = _driver_rows(conn, _CUSTOMERS_BY_ID, (), part)
        else:
            rows = conn.execute(
                select(customers.c.id, customers.c.status, customers.c.merged_into_id).where(
                    customers.c.id.in_(part)
                )
            ).all()
        for cid, status, into in rows:
            if status == "merged" and into is not None:
                merged[cid] = into
            else:
                found[cid] = CustomerRef(cid, status)
    if merged:
        targets = customers_by_id(conn, merged.values())
        for cid, into in merged.items():
            if into in targets:
                found[cid] = targets[into]
    return found


def customers_by_card(conn: Connection, cards: Iterable[str]) -> dict[str, CustomerRef]:
    """Resolve normalised card numbers, including the old card of a merged duplicate.

    Merging moves the duplicate's card to a ``card`` reference of the kept customer, so a
    till that still scans the old card reaches the right timeline.
    """
    wanted = sorted(set(cards))
    found: dict[str, CustomerRef] = {}
    sqlite = conn.dialect.name == "sqlite"
    rows: Sequence[Any]
    for part in chunked(wanted):
        if sqlite:
            rows = _driver_rows(conn, _CUSTOMERS_BY_CARD, (), part)
        else:
            rows = conn.execute(
                select(customers.c.card_number, customers.c.id, customers.c.status).where(
                    customers.c.card_number.in_(part)
                )
            ).all()
        for card, cid, status in rows:
            found[card] = CustomerRef(cid, status)
    missing = [card for card in wanted if card not in found]
    for part in chunked(missing):
        rows = conn.execute(
            select(customer_refs.c.external_id, customers.c.id, customers.c.status)
            .join(customers, customers.c.id == customer_refs.c.customer_id)
            .where(customer_refs.c.source == "card", customer_refs.c.external_id.in_(part))
        ).all()
        for card, cid, status in rows:
            found[card] = CustomerRef(cid, status)
    return found


_LOCATIONS = select(locations.c.code, locations.c.id)


def location_ids(conn: Connection) -> dict[str, int]:
    """Location code → id; a business has a handful, so this is read whole."""
    return {str(code): int(lid) for code, lid in conn.execute(_LOCATIONS)}


def staff_ids(conn: Connection, ids: Iterable[int]) -> set[int]:
    wanted = sorted(set(ids))
    present: set[int] = set()
    for part in chunked(wanted):
        present.update(conn.scalars(select(staff.c.id).where(staff.c.id.in_(part))))
    return present


def stored_event_ids(
    conn: Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """(source, external_id) → id of the events already on the timeline (a retry's answer
    names the event it repeats). The unique key covers the query: no table row is read."""
    present: dict[tuple[str, str], int] = {}
    by_source: dict[str, list[str]] = {}
    for source, external_id in keys:
        by_source.setdefault(source, []).append(external_id)
    sqlite = conn.dialect.name == "sqlite"
    rows: Sequence[Any]
    for source, ids in by_source.items():
        for part in chunked(sorted(set(ids))):
            if sqlite:
                rows = _driver_rows(conn, _EVENT_KEYS, (source,), part)
            else:
                rows = conn.execute(
                    select(events.c.external_id, events.c.id).where(
                        events.c.source == source, events.c.external_id.in_(part)
                    )
                ).all()
            present.update(((source, external_id), int(eid)) for external_id, eid in rows)
    return present


def events_by_key(
    conn: Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, int | None, str, dict[str, object]]]:
    """(source, external_id) → (event id, customer id, type, payload) for referenced events.

    Asked one source at a time (``source = ? AND external_id IN (…)``): SQLite cannot use
    the unique key for a row-value ``(source, external_id) IN (…)`` and would scan every
    event on the timeline for each batch that holds a return.
    """
    found: dict[tuple[str, str], tuple[int, int | None, str, dict[str, object]]] = {}
    by_source: dict[str, set[str]] = {}
    for source, external_id in keys:
        by_source.setdefault(source, set()).add(external_id)
    for source, ids in sorted(by_source.items()):
        for part in chunked(sorted(ids)):
            rows = conn.execute(
                select(
                    events.c.external_id,
                    events.c.id,
                    events.c.customer_id,
                    events.c.type,
                    events.c.payload,
                ).where(events.c.source == source, events.c.external_id.in_(part))
            )
            for external_id, eid, cid, kind, payload in rows:
                found[(source, external_id)] = (eid, cid, kind, payload)
    return found
