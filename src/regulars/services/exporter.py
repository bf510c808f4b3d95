"""Export customers and their timelines as CSV, JSON or JSON Lines, streaming.

A business leaving us, an accountant, a data team: each gets everything, without the export
holding the whole database in memory. Rows are read a page at a time by id (keyset paging,
the same on SQLite and PostgreSQL) and written as they come. The customer CSV uses the import
columns (plus a few facts an import reads past), and events exported as JSON Lines import
again as they are, so an export is also a backup that ``regulars import`` understands.

Everyone's personal data leaving the database is a change by a person in the sense of the
audit log: each export leaves one entry (who, when, what: kind, format, location, how many
rows, whether it finished). The entry is written in its own short transaction after the
reading is over, so a long export never holds the write lock; an export that stops half-way
is recorded too, with what had been written by then.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal, TextIO

from sqlalchemy import Connection, Engine, Select, and_, func, select

from regulars.domain.access import Actor
from regulars.domain.errors import FieldProblem, InvalidInput
from regulars.services.access import customers_in_scope, require
from regulars.services.importer import CHANNELS, CUSTOMER_COLUMNS, EXPORT_ONLY_COLUMNS
from regulars.store import audit, lookups
from regulars.store.tables import (
    consents,
    customer_refs,
    customers,
    events,
    households,
    staff,
)
from regulars.store.uow import UnitOfWork

Format = Literal["csv", "json", "jsonl"]
Progress = Callable[[int], None]
PAGE = 1000

CUSTOMER_EXPORT_COLUMNS = (
    *EXPORT_ONLY_COLUMNS[:1],
    *[c for c in CUSTOMER_COLUMNS if c not in ("external_id", "consent_at", "consent_source")],
    *EXPORT_ONLY_COLUMNS[1:],
)
EVENT_EXPORT_COLUMNS = (
    "id",
    "type",
    "occurred_at",
    "source",
    "external_id",
    "customer_id",
    "card_number",
    "location",
    "staff_id",
    "recorded_at",
    "payload",
)


def count_customers(engine: Engine, actor: Actor, *, location: str | None = None) -> int:
    """How many customers an export would write (for a progress bar)."""
    with UnitOfWork(engine, readonly=True) as uow:
        scope = _customer_scope(uow.conn, actor, location)
        return int(uow.conn.scalar(select(func.count()).select_from(customers).where(scope)) or 0)


def count_events(engine: Engine, actor: Actor, *, location: str | None = None) -> int:
    with UnitOfWork(engine, readonly=True) as uow:
        query = select(func.count()).select_from(events)
        query = _event_scope(query, uow.conn, actor, location)
        return int(uow.conn.scalar(query) or 0)


def export_customers(
    engine: Engine,
    actor: Actor,
    out: TextIO,
    *,
    fmt: Format = "csv",
    location: str | None = None,
    progress: Progress | None = None,
    now: datetime,
) -> int:
    """Write every customer the actor may see (at one location if asked); returns the count.

    Audited as ``customers.export`` once the export ends (or stops).
    """
    require(actor, "customers:read")
    writer = _Writer(out, fmt, CUSTOMER_EXPORT_COLUMNS)
    with _audited(engine, actor, now, "customers", fmt, location) as tally:
        with UnitOfWork(engine, readonly=True) as uow:
            conn = uow.conn
            scope = _customer_scope(conn, actor, location)
            tally.started = True
            _write_customers(conn, scope, writer, tally, progress)
        writer.close()
        tally.finished = True
    return tally.written


def _write_customers(
    conn: Connection, scope: Any, writer: _Writer, tally: _Tally, progress: Progress | None
) -> None:
    places = {lid: code for code, lid in lookups.location_ids(conn).items()}
    last = 0
    while True:
        page = (
            conn.execute(
                select(customers, households.c.name.label("household_name"))
                .outerjoin(households, households.c.id == customers.c.household_id)
                .where(scope, customers.c.id > last)
                .order_by(customers.c.id)
                .limit(PAGE)
            )
            .mappings()
            .all()
        )
        if not page:
            break
        ids = [int(row["id"]) for row in page]
        given = _consents_of(conn, ids)
        refs = _refs_of(conn, ids)
        owners = _owner_emails(conn, [row["owner_staff_id"] for row in page])
        for row in page:
            writer.write(_customer_record(row, places, owners, given, refs))
            tally.written += 1  # per row: an export that breaks off is audited to the row
        last = ids[-1]
        if progress:
            progress(len(page))


def export_events(
    engine: Engine,
    actor: Actor,
    out: TextIO,
    *,
    fmt: Format = "csv",
    location: str | None = None,
    progress: Progress | None = None,
    now: datetime,
) -> int:
    """Write the timeline, oldest first by id; JSON Lines output imports again unchanged.

    Audited as ``events.export`` once the export ends (or stops).
    """
    require(actor, "customers:read")
    writer = _Writer(out, fmt, EVENT_EXPORT_COLUMNS)
    with _audited(engine, actor, now, "events", fmt, location) as tally:
        with UnitOfWork(engine, readonly=True) as uow:
            conn = uow.conn
            _scope(conn, actor, location)  # an unknown location is refused before anything
            tally.started = True
            _write_events(conn, actor, location, writer, tally, progress)
        writer.close()
        tally.finished = True
    return tally.written


def _write_events(
    conn: Connection,
    actor: Actor,
    location: str | None,
    writer: _Writer,
    tally: _Tally,
    progress: Progress | None,
) -> None:
    places = {lid: code for code, lid in lookups.location_ids(conn).items()}
    last = 0
    while True:
        query = (
            select(events, customers.c.card_number)
            .outerjoin(customers, customers.c.id == events.c.customer_id)
            .where(events.c.id > last)
            .order_by(events.c.id)
            .limit(PAGE)
        )
        page = conn.execute(_event_scope(query, conn, actor, location)).mappings().all()
        if not page:
            break
        for row in page:
            writer.write(_event_record(row, places, writer.fmt))
            tally.written += 1
        last = int(page[-1]["id"])
        if progress:
            progress(len(page))


# -- audit -------------------------------------------------------------------------------


@dataclass
class _Tally:
    written: int = 0
    started: bool = False  # the input was accepted and reading began
    finished: bool = False  # every row was written and the output closed


@contextmanager
def _audited(
    engine: Engine, actor: Actor, now: datetime, kind: str, fmt: Format, location: str | None
) -> Iterator[_Tally]:
    """Count what the export writes, then audit it in a short transaction of its own.

    Runs after the reading transaction has ended, whether the export finished or stopped
    (a broken pipe, a full disk): what left the database is on record either way. An export
    refused before reading began (an unknown location) exported nothing and is not recorded.
    """
    tally = _Tally()
    try:
        yield tally
    finally:
        if tally.started:
            with UnitOfWork(engine) as uow:
                audit.record(
                    uow.conn,
                    at=now,
                    actor=actor.label,
                    action=f"{kind}.export",
                    entity="export",
                    entity_id=kind,
                    after={
                        "kind": kind,
                        "format": fmt,
                        "location": location,
                        "count": tally.written,
                        "complete": tally.finished,
                    },
                )
                uow.commit()


# -- helpers -----------------------------------------------------------------------------


#: Profiles that are no longer anyone: a merged duplicate (its card and ids now belong to
#: the kept customer, whose ``external_refs`` carry them) and an erased customer. Exported,
#: they would only come back as rejected rows when the file is imported.
GONE = ("merged", "erased")


def _customer_scope(conn: Connection, actor: Actor, location: str | None) -> Any:
    """The customers a customer export writes: those in ``_scope`` who are still someone."""
    return and_(_scope(conn, actor, location), customers.c.status.notin_(GONE))


def _scope(conn: Connection, actor: Actor, location: str | None) -> Any:
    scope = customers_in_scope(actor)
    if location is None:
        return scope
    location_id = lookups.location_ids(conn).get(location)
    if location_id is None:
        raise InvalidInput([FieldProblem("location", f"unknown location {location!r}")])
    return and_(scope, customers.c.home_location_id == location_id)


def _event_scope(
    query: Select[Any], conn: Connection, actor: Actor, location: str | None
) -> Select[Any]:
    """Events of the customers in scope; business-wide events (a recall) only for the whole
    business, or for the location they were announced at."""
    if actor.whole_business and location is None:
        return query
    in_scope = select(customers.c.id).where(_scope(conn, actor, location))
    customer_event = events.c.customer_id.in_(in_scope)
    if location is None:
        return query.where(customer_event)
    location_id = lookups.location_ids(conn)[location]
    return query.where(
        customer_event | (events.c.customer_id.is_(None) & (events.c.location_id == location_id))
    )


Consent = tuple[bool, datetime, str]


def _consents_of(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, Consent]]:
    out: dict[int, dict[str, Consent]] = {}
    rows = conn.execute(
        select(
            consents.c.customer_id,
            consents.c.channel,
            consents.c.granted,
            consents.c.at,
            consents.c.source,
        ).where(consents.c.customer_id.in_(ids))
    )
    for cid, channel, granted, at, source in rows:
        out.setdefault(int(cid), {})[str(channel)] = (bool(granted), at, str(source))
    return out


def _refs_of(conn: Connection, ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    rows = conn.execute(
        select(customer_refs.c.customer_id, customer_refs.c.source, customer_refs.c.external_id)
        .where(customer_refs.c.customer_id.in_(ids))
        .order_by(customer_refs.c.source, customer_refs.c.external_id)
    )
    for cid, source, ref in rows:
        out.setdefault(int(cid), []).append(f"{source}:{ref}")
    return out


def _owner_emails(conn: Connection, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = conn.execute(select(staff.c.id, staff.c.email).where(staff.c.id.in_(wanted)))
    return {int(sid): str(email) for sid, email in rows}


def _customer_record(
    row: Any,
    places: dict[int, str],
    owners: dict[int, str],
    given: dict[int, dict[str, Consent]],
    refs: dict[int, list[str]],
) -> dict[str, Any]:
    cid = int(row["id"])
    record: dict[str, Any] = {
        "id": cid,
        "card_number": row["card_number"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "email": row["email"],
        "phone": row["phone"],
        "birthday": row["birthday"],
        "language": row["language"],
        "preferred_channel": row["preferred_channel"],
        "city": row["city"],
        "status": row["status"],
        "home_location": places.get(row["home_location_id"]),
        "owner_email": owners.get(row["owner_staff_id"]),
        "quiet_hours": _window(row["quiet_start"], row["quiet_end"]),
    }
    mine = given.get(cid, {})
    for channel in CHANNELS:
        stated = mine.get(channel)
        record[f"consent_{channel}"] = None if stated is None else ("yes" if stated[0] else "no")
        record[f"consent_{channel}_at"] = None if stated is None else stated[1]
        record[f"consent_{channel}_source"] = None if stated is None else stated[2]
    record |= {
        "external_refs": "|".join(refs.get(cid, [])),
        "household": row["household_name"],
        "created_at": row["created_at"],
        "purchase_count": row["purchase_count"],
        "lifetime_spend": row["lifetime_spend"],
        "last_visit_at": row["last_visit_at"],
        "last_purchase_at": row["last_purchase_at"],
    }
    return record


def _window(start: time | None, end: time | None) -> str | None:
    if start is None or end is None:
        return None
    return f"{start:%H:%M}-{end:%H:%M}"


def _event_record(row: Any, places: dict[int, str], fmt: Format) -> dict[str, Any]:
    payload = row["payload"]
    if isinstance(payload, str):
        payload = json.loads(payload)
    location = places.get(row["location_id"]) if row["location_id"] is not None else None
    if fmt == "jsonl":
        # Exactly what `regulars import events` takes: the envelope plus the payload fields.
        event: dict[str, Any] = {
            "type": row["type"],
            "source": row["source"],
            "external_id": row["external_id"],
            "occurred_at": row["occurred_at"],
        }
        if row["card_number"]:
            event["card_number"] = row["card_number"]
        elif row["customer_id"] is not None:
            event["customer_id"] = row["customer_id"]
        if location:
            event["location"] = location
        if row["staff_id"] is not None:
            event["staff_id"] = row["staff_id"]
        return {**event, **payload}
    return {
        "id": row["id"],
        "type": row["type"],
        "occurred_at": row["occurred_at"],
        "source": row["source"],
        "external_id": row["external_id"],
        "customer_id": row["customer_id"],
        "card_number": row["card_number"],
        "location": location,
        "staff_id": row["staff_id"],
        "recorded_at": row["recorded_at"],
        "payload": payload if fmt == "json" else json.dumps(payload, ensure_ascii=False),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


class _Writer:
    """Streams records as CSV (header first), a JSON array, or JSON Lines."""

    def __init__(self, out: TextIO, fmt: Format, columns: Sequence[str]) -> None:
        if fmt not in ("csv", "json", "jsonl"):
            raise InvalidInput([FieldProblem("format", "choose csv, json or jsonl")])
        self.out = out
        self.fmt = fmt
        self.first = True
        self.csv: Any = None
        if fmt == "csv":
            self.csv = csv.writer(out, lineterminator="\n")
            self.csv.writerow(columns)
            self.columns = columns
        elif fmt == "json":
            out.write("[")

    def write(self, record: dict[str, Any]) -> None:
        if self.fmt == "csv":
            self.csv.writerow(
                ["" if record.get(c) is None else _plain(record.get(c)) for c in self.columns]
            )
            return
        text = json.dumps(
            {k: _plain(v) for k, v in record.items()}, ensure_ascii=False, default=_plain
        )
        if self.fmt == "jsonl":
            self.out.write(text + "\n")
            return
        self.out.write(("\n" if self.first else ",\n") + text)
        self.first = False

    def close(self) -> None:
        if self.fmt == "json":
            self.out.write("\n]\n" if not self.first else "]\n")


__all__ = [
    "CUSTOMER_EXPORT_COLUMNS",
    "EVENT_EXPORT_COLUMNS",
    "count_customers",
    "count_events",
    "export_customers",
    "export_events",
]
