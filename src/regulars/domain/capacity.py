"""Human capacity: a handful of people, a day's worth of calls, and who deserves them first.

Calls are the scarcest thing a business has. They go first to the moments and customers
where a person matters most (the moment's weight, the customer's tier, what they spent,
and whether they are at risk), to the customer's own advisor when they work today and have
room, else to a colleague at the customer's location. What does not fit falls back to the
playbook's next touch, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from regulars.domain.business import WEEKDAYS
from regulars.domain.decisions import Choice
from regulars.domain.moments import MOMENTS

TIER_RANK = {"bronze": 1, "silver": 2, "gold": 3, "platinum": 4, "vip": 4, "black": 5}


@dataclass
class Caller:
    """A member of staff who can take calls today, with how many are left."""

    id: int
    name: str
    locations: frozenset[int]
    capacity: int
    working_days: frozenset[str]
    left: int = 0
    everywhere: bool = False  # sees the whole business (the owner role), not some locations

    def works_on(self, day: date) -> bool:
        return works_on(day, self.working_days)

    def reaches(self, location_id: int | None) -> bool:
        """Whether they can open the profile of a customer of this home location."""
        return self.everywhere or location_id is None or location_id in self.locations


def works_on(day: date, working_days: frozenset[str]) -> bool:
    """Whether someone who works ``working_days`` ('mon', 'tue' …) is in on ``day``."""
    return WEEKDAYS[day.weekday()] in working_days


def first_working_day(day: date, working_days: frozenset[str]) -> date:
    """``day``, or the first day after it that someone who works ``working_days`` is in
    (``day`` itself for someone with no working day at all)."""
    for ahead in range(7):
        candidate = day + timedelta(days=ahead)
        if works_on(candidate, working_days):
            return candidate
    return day


@dataclass(frozen=True)
class Standing:
    """What makes one customer's call worth more than another's."""

    tier: str | None = None
    lifetime_spend: int = 0
    at_risk: bool = False
    owner_id: int | None = None
    location_id: int | None = None


def importance(choice: Choice, standing: Standing) -> int:
    """A sortable score: moment weight first, then tier, risk and spend (minor units)."""
    score = MOMENTS[choice.candidate.moment].human_weight * 10_000
    score += TIER_RANK.get((standing.tier or "").lower(), 0) * 1_000
    score += 2_000 if standing.at_risk else 0
    score += min(standing.lifetime_spend // 10_000, 999)
    return score


def allocate(
    calls: Sequence[tuple[Choice, Standing]], callers: Sequence[Caller], day: date
) -> list[Choice]:
    """Assign calls to people; return the choices that found nobody (their reason is set).

    Deterministic: the same inputs give the same assignments (ties by customer id).
    """
    for caller in callers:
        caller.left = caller.capacity if caller.works_on(day) else 0
    by_id = {caller.id: caller for caller in callers}
    overflow: list[Choice] = []
    ranked = sorted(
        calls,
        key=lambda pair: (-importance(pair[0], pair[1]), pair[0].candidate.customer_id),
    )
    for choice, standing in ranked:
        choice.importance = importance(choice, standing)
        owner = by_id.get(standing.owner_id) if standing.owner_id is not None else None
        if owner is not None and not owner.reaches(standing.location_id):
            # A customer who moved keeps an advisor who cannot see her in his queue.
            choice.because(f"advisor {owner.name} does not work at the customer's location")
            owner = None
        if owner is not None and owner.left > 0:
            owner.left -= 1
            choice.assignee = owner.id
            choice.because(f"call by their advisor {owner.name}")
            continue
        if owner is not None:
            why = "is off today" if not owner.works_on(day) else "has no calls left today"
            choice.because(f"advisor {owner.name} {why}")
        pool = [
            caller
            for caller in callers
            if caller.left > 0
            and (standing.location_id is None or standing.location_id in caller.locations)
        ]
        if pool:
            chosen = max(pool, key=lambda c: (c.left, -c.id))
            chosen.left -= 1
            choice.assignee = chosen.id
            choice.because(f"call by {chosen.name} from the team")
            continue
        choice.because("no call capacity left today")
        overflow.append(choice)
    return overflow
