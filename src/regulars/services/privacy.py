"""A customer's data rights: a copy of everything we hold, and erasure.

Export gathers the profile, household, assets, preferences, consents, references, the whole
timeline, the audit entries about them, and every row of any other table that names the
customer (loyalty, planner, outbox …) or names them through a row that does (a ledger
entry through its membership, a delivery attempt through its message), so that areas added
later are included unasked.

Erasure removes what identifies the person and keeps what the business must still count:
the profile is blanked (status ``erased``), references, consents and preferences are
deleted, household members lose their names (so does a row naming the person in another
customer's household, which the export includes too), assets their identifying details,
and the free text inside timeline events and audit entries is replaced by ``[erased]``. The event
rows, their amounts and the loyalty ledger stay, so totals and statistics do not move.
Duplicates merged into the customer are erased with them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import BigInteger, Connection, Table, and_, cast, delete, func, or_, select, update

from regulars.domain.access import Actor
from regulars.domain.customers import derived_columns
from regulars.domain.errors import Conflict, FieldProblem, InvalidInput
from regulars.services.access import access_customer, require, require_manager
from regulars.store import audit
from regulars.store.schema import metadata
from regulars.store.tables import (
    assets,
    audit_log,
    consents,
    customer_refs,
    customers,
    events,
    household_members,
    households,
    preferences,
)
from regulars.store.uow import UnitOfWork

ERASED = "[erased]"

#: Keys whose values are a person's words or identity, wherever they appear (event payloads,
#: audit before/after, JSON columns of other areas' tables).
PERSONAL_KEYS = frozenset(
    {
        "first_name",
        "last_name",
        "name",
        "email",
        "phone",
        "birthday",
        "card_number",
        "city",
        "text",
        "notes",
        "comment",
        "reason",
        "subject",
        "friend_name",
        "tags",
        "how",
        "detail",
        "summary",
        "decision_note",
        "label",
        "value",
        "details",
        "vin",
        "address",
        "recipient",
        "to",
        "body",
        "greeting",
        "external_refs",
        "member_name",
        "ip",
    }
)

#: Free-text columns of other areas' tables that may hold the customer's words.
TEXT_COLUMNS = frozenset(
    {"summary", "detail", "reason", "decision_note", "notes", "comment", "last_error"}
)
#: JSON columns of other areas' tables that hold rendered personal context (``response``:
#: an API answer kept for Idempotency-Key repeats, such as the profile just created).
JSON_COLUMNS = frozenset({"context", "brief", "reasons", "response"})

#: Events on another customer's timeline that name a customer: per event type, the payload
#: key holding the customer's id and the keys holding their words (a referral names the
#: friend who came). Her export shows them; her erasure blanks those words.
MENTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "referral": ("friend_customer_id", ("friend_name",)),
}

_CORE = {customers, customer_refs, consents, household_members, assets, preferences, events}

#: Extra erasure steps other areas may register: called in the erasing transaction.
EXTRA_ERASERS: list[Callable[[Connection, int, datetime], None]] = []


def register_eraser(step: Callable[[Connection, int, datetime], None]) -> None:
    """Let an area erase what only it understands (run inside the erasure's transaction)."""
    EXTRA_ERASERS.append(step)


# -- export ----------------------------------------------------------------------------


def export_customer(
    uow: UnitOfWork, actor: Actor, customer_id: int, *, now: datetime
) -> dict[str, Any]:
    """Everything we hold about one customer, as JSON-ready data (audited as an export)."""
    require(actor, "privacy:export")
    require_manager(actor)
    with uow:
        conn = uow.conn
        access_customer(conn, actor, customer_id)
        ids = _with_merged(conn, customer_id)
        profiles = _rows(conn, select(customers).where(customers.c.id.in_(ids)))
        household_ids = sorted({p["household_id"] for p in profiles if p["household_id"]})
        document: dict[str, Any] = {
            "exported_at": now.isoformat(),
            "customer_id": customer_id,
            # The rows come in no set order: a duplicate with a lower id came first, and the
            # export named the wrong person as the one the request was about.
            "profile": next((p for p in profiles if p["id"] == customer_id), None),
            "merged_profiles": [p for p in profiles if p["id"] != customer_id],
            "external_refs": _rows(
                conn, select(customer_refs).where(customer_refs.c.customer_id.in_(ids))
            ),
            "household": _rows(conn, select(households).where(households.c.id.in_(household_ids))),
            "household_members": _rows(
                conn,
                select(household_members)
                .where(
                    household_members.c.household_id.in_(household_ids)
                    | household_members.c.customer_id.in_(ids)
                )
                .order_by(household_members.c.id),
            ),
            "assets": _rows(conn, select(assets).where(assets.c.customer_id.in_(ids))),
            "preferences": _rows(
                conn, select(preferences).where(preferences.c.customer_id.in_(ids))
            ),
            "consents": _rows(conn, select(consents).where(consents.c.customer_id.in_(ids))),
            "timeline": _rows(
                conn,
                select(events)
                .where(events.c.customer_id.in_(ids))
                .order_by(events.c.occurred_at, events.c.id),
            ),
            "mentioned_in": _mentions(conn, ids),
            "audit": _rows(
                conn,
                select(audit_log).where(_audit_about(ids)).order_by(audit_log.c.at, audit_log.c.id),
            ),
            "other_records": {
                table.name: _rows(conn, select(table).where(about))
                for table, about in _other_records(ids)
            },
        }
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="customer.export",
            entity="customer",
            entity_id=customer_id,
        )
        uow.commit()
    return document


# -- erase -----------------------------------------------------------------------------


def erase_customer(
    uow: UnitOfWork, actor: Actor, customer_id: int, *, now: datetime, confirm: bool
) -> None:
    """Remove the person's data for good; see the module docstring for what stays."""
    require(actor, "privacy:erase")
    require_manager(actor)
    if not confirm:
        raise InvalidInput([FieldProblem("confirm", "erasure cannot be undone; confirm it")])
    with uow:
        conn = uow.conn
        access_customer(conn, actor, customer_id)
        # Exclusively locked (PostgreSQL): a booking under way (goodwill with its reason, a
        # purchase) holds a key-share lock on the customer, so the erasure waits for it and
        # blanks it too; one arriving meanwhile waits and is refused as erased.
        status = conn.scalar(
            select(customers.c.status).where(customers.c.id == customer_id).with_for_update()
        )
        if status == "erased":
            raise Conflict("this customer was already erased", field="customer_id")
        if status == "merged":
            raise Conflict(
                "this profile was merged; erase the customer it was merged into",
                field="customer_id",
            )
        for cid in _with_merged(conn, customer_id):
            _erase_one(conn, cid, now)
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="customer.erase",
            entity="customer",
            entity_id=customer_id,
            after={"status": "erased"},
        )
        uow.commit()


def _erase_one(conn: Connection, customer_id: int, now: datetime) -> None:
    row = conn.execute(
        select(customers.c.household_id, customers.c.status).where(customers.c.id == customer_id)
    ).one()
    blank = {"first_name": ERASED, "last_name": "", "birthday": None}
    conn.execute(
        update(customers)
        .where(customers.c.id == customer_id)
        .values(
            **blank,
            **derived_columns(blank),
            card_number=None,
            email=None,
            phone=None,
            preferred_channel=None,
            quiet_start=None,
            quiet_end=None,
            city="",
            owner_staff_id=None,
            status="erased" if row.status != "merged" else "merged",
            updated_at=now,
        )
    )
    conn.execute(delete(customer_refs).where(customer_refs.c.customer_id == customer_id))
    conn.execute(delete(consents).where(consents.c.customer_id == customer_id))
    conn.execute(delete(preferences).where(preferences.c.customer_id == customer_id))
    conn.execute(
        update(assets)
        .where(assets.c.customer_id == customer_id)
        .values(label=assets.c.kind, details={}, member_id=None, acquired_on=None)
    )
    # Wherever the person is listed (their own household or another customer's, as a
    # spouse with a profile of his own), the row keeps only the relation.
    conn.execute(
        update(household_members)
        .where(household_members.c.customer_id == customer_id)
        .values(name=ERASED, birthday=None, birthday_key=None, customer_id=None)
    )
    if row.household_id is not None:
        others = conn.scalar(
            select(customers.c.id).where(
                customers.c.household_id == row.household_id,
                customers.c.id != customer_id,
                customers.c.status.notin_(("erased", "merged")),
            )
        )
        if others is None:
            conn.execute(
                update(household_members)
                .where(household_members.c.household_id == row.household_id)
                .values(name=ERASED, birthday=None, birthday_key=None)
            )
            conn.execute(
                update(households).where(households.c.id == row.household_id).values(name="")
            )
        conn.execute(
            update(customers).where(customers.c.id == customer_id).values(household_id=None)
        )
    for event_id, payload in conn.execute(
        select(events.c.id, events.c.payload).where(events.c.customer_id == customer_id)
    ).all():
        cleaned = scrub(payload)
        if cleaned != payload:
            conn.execute(update(events).where(events.c.id == event_id).values(payload=cleaned))
    for event_id, event_type, payload in _mentioning(conn, [customer_id]):
        words = MENTIONS[event_type][1]
        conn.execute(
            update(events)
            .where(events.c.id == event_id)
            .values(payload=payload | {k: ERASED for k in words if payload.get(k)})
        )
    for entry_id, before, after in conn.execute(
        select(audit_log.c.id, audit_log.c.before, audit_log.c.after).where(
            _audit_about([customer_id]) | _audit_naming(conn, [customer_id])
        )
    ).all():
        conn.execute(
            update(audit_log)
            .where(audit_log.c.id == entry_id)
            .values(before=blank_text(before), after=blank_text(after))
        )
    for table, about in _other_records([customer_id]):
        _scrub_table(conn, table, about)
    for step in EXTRA_ERASERS:
        step(conn, customer_id, now)


def scrub(value: Any, key: str | None = None) -> Any:
    """A copy with the personal values (by key) replaced; numbers, dates and codes stay."""
    if isinstance(value, dict):
        return {k: scrub(v, k) for k, v in value.items()}
    if isinstance(value, list):
        if key in PERSONAL_KEYS and all(isinstance(v, str) for v in value):
            return [] if key == "tags" else [ERASED for _ in value]
        return [scrub(v) for v in value]
    if key in PERSONAL_KEYS and value not in (None, "") and not isinstance(value, bool | int):
        return ERASED if isinstance(value, str) else None
    return value


#: Keys of codes and states, not words: kept when all other text is blanked.
KEEP_KEYS = frozenset(
    {
        "status",
        "role",
        "channel",
        "kind",
        "relation",
        "language",
        "preferred_channel",
        "type",
        "moment",
        "program",
        "tier",
        "currency",
        "source",
        "outcome",
        "emotion",
        "category",
        "sku",
        "model_code",
        "home_location_id",
        "created_at",
        "updated_at",
        "at",
    }
)


def blank_text(value: Any, key: str | None = None) -> Any:
    """A copy with every string blanked except codes and states (``KEEP_KEYS``)."""
    if isinstance(value, dict):
        return {k: blank_text(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [blank_text(v, key) for v in value]
    if isinstance(value, str) and value and key not in KEEP_KEYS:
        return ERASED
    return value


def _scrub_table(conn: Connection, table: Table, about: Any) -> None:
    """Blank the free text of ``table``'s rows selected by ``about``.

    Text columns are overwritten in one statement; JSON columns keep their codes and
    numbers (``blank_text``), which needs each row read.
    """
    for column in (c for c in table.c if c.name in TEXT_COLUMNS):
        conn.execute(
            update(table).where(about, column.is_not(None), column != "").values({column: ERASED})
        )
    json_columns = [c for c in table.c if c.name in JSON_COLUMNS]
    key_columns = list(table.primary_key.columns)
    if not json_columns or not key_columns:
        return
    rows = conn.execute(select(*key_columns, *json_columns).where(about)).mappings().all()
    for row in rows:
        values = {c.name: blank_text(row[c.name]) for c in json_columns if row[c.name] is not None}
        if values:
            conn.execute(
                update(table).where(*(c == row[c.name] for c in key_columns)).values(**values)
            )


# -- helpers ---------------------------------------------------------------------------


def _with_merged(conn: Connection, customer_id: int) -> list[int]:
    """The customer and every duplicate merged into them (and into those, and so on)."""
    found = [customer_id]
    frontier = [customer_id]
    while frontier:
        nxt = [
            int(c)
            for c in conn.scalars(
                select(customers.c.id).where(customers.c.merged_into_id.in_(frontier))
            )
            if c not in found
        ]
        found.extend(nxt)
        frontier = nxt
    return found


def _mentioning(conn: Connection, ids: list[int]) -> list[tuple[int, str, dict[str, Any]]]:
    """(id, type, payload) of the events that name one of ``ids`` in their payload."""
    found: list[tuple[int, str, dict[str, Any]]] = []
    for event_type, (id_key, _) in MENTIONS.items():
        rows = conn.execute(
            select(events.c.id, events.c.payload)
            .where(events.c.type == event_type, _json_id(conn, events.c.payload, id_key).in_(ids))
            .order_by(events.c.occurred_at, events.c.id)
        )
        found += [(int(event_id), event_type, payload) for event_id, payload in rows]
    return found


def _json_id(conn: Connection, column: Any, key: str) -> Any:
    """The id stored under ``key`` of a JSON column, as SQL (JSONB on PostgreSQL, text on
    SQLite), so that the rows naming a customer are found without reading every row."""
    if conn.dialect.name == "postgresql":
        return cast(func.jsonb_extract_path_text(column, key), BigInteger)
    return func.json_extract(column, f"$.{key}")


def _audit_naming(conn: Connection, ids: list[int]) -> Any:
    """Audit entries about another customer that name the person: a household member
    added with a link to their profile (the entry keeps the name and birthday)."""
    return and_(
        audit_log.c.action == "household.add_member",
        _json_id(conn, audit_log.c.after, "customer_id").in_(ids),
    )


def _mentions(conn: Connection, ids: list[int]) -> list[dict[str, Any]]:
    """What other customers' events say about the person, without saying whose they are."""
    out = []
    for event_id, event_type, payload in _mentioning(conn, ids):
        id_key, words = MENTIONS[event_type]
        said = {k: payload[k] for k in (id_key, *words) if k in payload}
        out.append({"event_id": event_id, "type": event_type, "payload": said})
    return out


def _audit_about(ids: list[int]) -> Any:
    return and_(audit_log.c.entity == "customer", audit_log.c.entity_id.in_([str(i) for i in ids]))


def _other_records(ids: list[int]) -> list[tuple[Table, Any]]:
    """Other areas' tables, each with the condition that picks the rows about ``ids``.

    A table with a ``customer_id`` column names the customer itself; a table without one
    may name them through a foreign key to such a table (a loyalty ledger entry through its
    membership, a delivery attempt through its outbox message).
    """
    direct = [
        t
        for t in metadata.sorted_tables
        if "customer_id" in t.c and t not in _CORE and t.name != "household_members"
    ]
    found: list[tuple[Table, Any]] = [(t, t.c.customer_id.in_(ids)) for t in direct]
    for table in metadata.sorted_tables:
        if "customer_id" in table.c or table in _CORE:
            continue
        links = [
            fk.parent.in_(select(fk.column).where(fk.column.table.c.customer_id.in_(ids)))
            for fk in table.foreign_keys
            if fk.column.table in direct
        ]
        if links:
            found.append((table, or_(*links)))
    return found


def _rows(conn: Connection, query: Any) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in conn.execute(query).mappings()]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


__all__ = ["ERASED", "blank_text", "erase_customer", "export_customer", "register_eraser", "scrub"]
