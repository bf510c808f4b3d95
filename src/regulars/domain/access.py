"""Who may see and change what: the rules, in one place, as pure functions.

Staff work at locations; a customer belongs to a home location. A member of staff sees the
customers of their own locations and no others; the owner sees the whole business. The
same rules apply to API keys, which are scoped to locations and permissions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from regulars.domain.customers import Role

ActorKind = Literal["staff", "api_key", "system", "cli", "customer"]


@dataclass(frozen=True)
class Actor:
    """Whoever is acting: a person, an integration, or regulars itself (the scheduler, the CLI).

    ``locations`` is None for actors that span the whole business.
    """

    kind: ActorKind
    id: int | None = None
    role: Role | None = None
    locations: frozenset[int] | None = None
    permissions: frozenset[str] | None = None  # None: everything the role allows
    name: str = ""

    @property
    def label(self) -> str:
        """How the audit log names this actor."""
        return f"{self.kind}:{self.id}" if self.id is not None else self.kind

    @property
    def whole_business(self) -> bool:
        return self.locations is None


SYSTEM = Actor(kind="system", name="regulars")
CLI = Actor(kind="cli", name="command line")


def can_see_location(actor: Actor, location_id: int | None) -> bool:
    """A customer with no home location is visible only to actors that span the business."""
    if actor.locations is None:
        return True
    return location_id is not None and location_id in actor.locations


def may(actor: Actor, permission: str) -> bool:
    """Whether the actor holds a permission (API keys carry an explicit list)."""
    if actor.permissions is None:
        return True
    return permission in actor.permissions
