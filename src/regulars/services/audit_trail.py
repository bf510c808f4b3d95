"""Browsing the audit log: who changed what, when, with the values before and after.

Managers see the entries about customers of their own locations; the owner sees everything,
including entries about staff, keys, locations and programs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, select

from regulars.domain.access import Actor
from regulars.domain.errors import FieldProblem, InvalidInput
from regulars.services.access import customers_in_scope, require, require_manager
from regulars.store.tables import audit_log, customers
from regulars.store.uow import UnitOfWork

MAX_PAGE = 200
#: The largest id a cursor may name (ids are 64-bit; this leaves room below the maximum).
MAX_ID = 2**62


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class AuditPage:
    entries: tuple[AuditEntry, ...]
    next_cursor: str | None


def browse_audit(
    uow: UnitOfWork,
    actor: Actor,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    by: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> AuditPage:
    """Newest first; filter by entity (and id), actor label, action and a time range."""
    require(actor, "audit:read")
    require_manager(actor)
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput([FieldProblem(name, "give a time zone offset")])
    limit = max(1, min(limit, MAX_PAGE))
    query = select(audit_log)
    if actor.locations is not None:
        visible = select(cast(customers.c.id, String)).where(customers_in_scope(actor))
        query = query.where(audit_log.c.entity == "customer", audit_log.c.entity_id.in_(visible))
    if entity:
        query = query.where(audit_log.c.entity == entity)
    if entity_id:
        query = query.where(audit_log.c.entity_id == entity_id)
    if by:
        query = query.where(audit_log.c.actor == by)
    if action:
        query = query.where(audit_log.c.action == action)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if until is not None:
        query = query.where(audit_log.c.at < until)
    if cursor:
        query = query.where(audit_log.c.id < _cursor_id(cursor))
    query = query.order_by(audit_log.c.id.desc()).limit(limit + 1)
    with uow:
        rows = uow.conn.execute(query).mappings().all()
    entries = [
        AuditEntry(
            r["id"],
            r["at"],
            r["actor"],
            r["action"],
            r["entity"],
            r["entity_id"],
            r["before"],
            r["after"],
        )
        for r in rows[:limit]
    ]
    more = len(rows) > limit
    return AuditPage(tuple(entries), str(entries[-1].id) if more and entries else None)


def _cursor_id(cursor: str) -> int:
    """The entry id a cursor stands for; anything this API did not give out is the caller's
    mistake (``str.isdigit`` alone lets "²" through, and 30 digits overflow the column)."""
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) > MAX_ID:
        raise InvalidInput([FieldProblem("cursor", "not a cursor this API gave out")])
    return int(cursor)


__all__ = ["AuditEntry", "AuditPage", "browse_audit"]
