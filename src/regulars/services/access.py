"""Access checks: the few functions every page and endpoint goes through to reach a customer.

A customer outside the actor's locations is reported as not found, never as forbidden, so
that nobody can probe which ids exist at another location.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, select, true

from regulars.domain.access import Actor, can_see_location, may
from regulars.domain.errors import Forbidden, NotFound
from regulars.store.tables import customers


def access_customer(conn: Connection, actor: Actor, customer_id: int) -> int:
    """Return the customer's home location id when the actor may see them; else NotFound."""
    row = conn.execute(
        select(customers.c.home_location_id, customers.c.status).where(
            customers.c.id == customer_id
        )
    ).first()
    if row is None or not can_see_location(actor, row.home_location_id):
        raise NotFound("no such customer", field="customer_id")
    return row.home_location_id  # type: ignore[no-any-return]


def customers_in_scope(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause limiting a customer query to what the actor may see."""
    if actor.locations is None:
        return true()
    return customers.c.home_location_id.in_(sorted(actor.locations))


def require(actor: Actor, permission: str) -> None:
    """Stop an actor (typically an API key) that lacks a permission."""
    if not may(actor, permission):
        raise Forbidden(f"this key lacks the {permission!r} permission")


def require_location(actor: Actor, location_id: int | None) -> None:
    """Stop an actor acting at a location that is not theirs."""
    if not can_see_location(actor, location_id):
        raise Forbidden("this location is not yours", field="location")
