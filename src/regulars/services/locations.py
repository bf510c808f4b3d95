"""The locations a member of staff works at: names for menus, time zones for showing times.

Staff see their own locations; owners and business-wide keys see every one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from regulars.domain.access import Actor
from regulars.store.tables import locations
from regulars.store.uow import UnitOfWork


@dataclass(frozen=True)
class LocationSummary:
    id: int
    code: str
    name: str
    timezone: str
    currency: str
    city: str


def list_locations(uow: UnitOfWork, actor: Actor) -> list[LocationSummary]:
    """The actor's locations, by name."""
    query = select(
        locations.c.id,
        locations.c.code,
        locations.c.name,
        locations.c.timezone,
        locations.c.currency,
        locations.c.city,
    ).order_by(locations.c.name, locations.c.id)
    if actor.locations is not None:
        query = query.where(locations.c.id.in_(sorted(actor.locations)))
    with uow:
        return [
            LocationSummary(
                int(r.id), r.code, r.name, r.timezone, r.currency or "EUR", r.city or ""
            )
            for r in uow.conn.execute(query)
        ]
