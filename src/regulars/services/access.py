"""Access checks: the few functions every page and endpoint goes through to reach a customer.

A customer outside the actor's locations is reported as not found, never as forbidden, so
that nobody can probe which ids exist at another location.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Connection, bindparam, select, true

from regulars.domain.access import Actor, can_see_location, may
from regulars.domain.customers import Role
from regulars.domain.errors import Conflict, Forbidden, NotFound
from regulars.store.tables import customers, staff_locations

#: Built once: this check runs on every page and endpoint that reaches a customer.
_HOME_OF = select(customers.c.home_location_id, customers.c.status).where(
    customers.c.id == bindparam("customer_id")
)
#: The same, key-share locked until commit (PostgreSQL; SQLite ignores it): see
#: ``access_live_customer``.
_HOME_OF_LOCKED = _HOME_OF.with_for_update(read=True, key_share=True)


def access_customer(conn: Connection, actor: Actor, customer_id: int) -> int:
    """Return the customer's home location id when the actor may see them; else NotFound."""
    home, _ = _visible(conn, actor, customer_id)
    return home


def access_live_customer(conn: Connection, actor: Actor, customer_id: int) -> int:
    """``access_customer`` for a change that books something to the customer (points,
    goodwill, a membership): a merged duplicate or an erased customer cannot take it.

    Points booked to a merged duplicate would count in the liability where nobody sees them;
    anything written about an erased customer brings back what erasure removed. The row
    stays key-share locked until the booking commits: a merge (which locks both profiles
    exclusively first) waits for it and moves it along, and a booking that arrives while a
    merge runs waits for it and is then refused here, instead of opening a second
    membership for the merged duplicate (a 500 for every booking after it).
    """
    home, status = _visible(conn, actor, customer_id, lock=True)
    if status == "merged":
        raise Conflict(
            "this customer was merged into another; use the kept customer", field="customer_id"
        )
    if status == "erased":
        raise Conflict("this customer's data was erased", field="customer_id")
    return home


def _visible(
    conn: Connection, actor: Actor, customer_id: int, *, lock: bool = False
) -> tuple[int, str]:
    """(home location id, status) of a customer the actor may see; else NotFound.

    An id no row can have (CLI arguments and old links are not range-checked) is simply
    not found, rather than an overflow in the driver.
    """
    possible = 0 < customer_id < 2**63
    query = _HOME_OF_LOCKED if lock else _HOME_OF
    row = conn.execute(query, {"customer_id": customer_id}).first() if possible else None
    if row is None or not can_see_location(actor, row.home_location_id):
        raise NotFound("no such customer", field="customer_id")
    return row.home_location_id, str(row.status)


def unreachable_customers(conn: Connection, actor: Actor, customer_ids: Iterable[int]) -> set[int]:
    """Which of these (existing) customers live outside the actor's locations, set-based."""
    if actor.locations is None:
        return set()
    wanted = sorted(set(customer_ids))
    out: set[int] = set()
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        for cid, home in conn.execute(
            select(customers.c.id, customers.c.home_location_id).where(customers.c.id.in_(part))
        ):
            if not can_see_location(actor, home):
                out.add(int(cid))
    return out


def customers_in_scope(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause limiting a customer query to what the actor may see."""
    if actor.locations is None:
        return true()
    return customers.c.home_location_id.in_(sorted(actor.locations))


def require(actor: Actor, permission: str) -> None:
    """Stop an actor (typically an API key) that lacks a permission."""
    if not may(actor, permission):
        raise Forbidden(f"this key lacks the {permission!r} permission")


def reaches_location(actor: Actor, location_id: int | None) -> bool:
    """Whether the actor may act at a location (the non-raising twin of require_location)."""
    return can_see_location(actor, location_id)


def require_location(actor: Actor, location_id: int | None) -> None:
    """Stop an actor acting at a location that is not theirs."""
    if not can_see_location(actor, location_id):
        raise Forbidden("this location is not yours", field="location")


# -- who the actor is, and what roles and keys may do ------------------------------------

#: Permissions an API key can be limited to. A key created without a list may do everything
#: its role allows; other areas add their permission names here as they need them.
PERMISSIONS: frozenset[str] = frozenset(
    {
        "customers:read",
        "customers:write",
        "events:read",
        "events:write",
        "audit:read",
        "privacy:export",
        "privacy:erase",
        "loyalty:read",
        "loyalty:write",
        "planner:read",
        "planner:write",
        "staff:read",
    }
)

#: Roles that run a location: they browse the audit log, export and erase, issue API keys.
MANAGING_ROLES: frozenset[Role] = frozenset({Role.owner, Role.manager})


def staff_location_ids(conn: Connection, staff_id: int) -> frozenset[int]:
    return frozenset(
        int(lid)
        for lid in conn.scalars(
            select(staff_locations.c.location_id).where(staff_locations.c.staff_id == staff_id)
        )
    )


def staff_actor(conn: Connection, staff_id: int, role: Role, name: str) -> Actor:
    """The actor for a known, active member of staff: owners span the whole business."""
    scope = None if role == Role.owner else staff_location_ids(conn, staff_id)
    return Actor(kind="staff", id=staff_id, role=role, locations=scope, name=name)


def is_manager(actor: Actor) -> bool:
    """Owners and managers, and regulars itself (the CLI and the scheduler)."""
    if actor.kind in ("system", "cli"):
        return True
    return actor.role in MANAGING_ROLES


def require_manager(actor: Actor) -> None:
    """Stop anyone below manager (an API key counts by the role it was issued with)."""
    if not is_manager(actor):
        raise Forbidden("only a manager or the owner may do this")


def require_role(actor: Actor, *roles: Role) -> None:
    """Stop a person or key whose role is not among ``roles``; regulars itself always passes."""
    if actor.kind in ("system", "cli"):
        return
    if actor.role not in roles:
        raise Forbidden("your role may not do this")
