"""Moments: the occasions on which a good shop would get in touch, and how much each matters.

The planner finds candidates set-based in the database; this module holds what it needs to
reason about them afterwards: the catalogue of moments (priority, whether a person matters,
whether a greeting belongs at the counter), the dates a birthday is celebrated on, and the
small rules (which purchase counts are milestones, when a regular is lapsing) that are
easier to test as plain functions than as SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum


class MomentKind(StrEnum):
    """Every moment the planner knows; playbooks may only name these."""

    birthday = "birthday"
    household_birthday = "household_birthday"
    anniversary = "anniversary"
    first_purchase = "first_purchase"
    purchase_milestone = "purchase_milestone"
    large_purchase = "large_purchase"
    tier_up = "tier_up"
    tier_down = "tier_down"
    tier_grace = "tier_grace"
    close_to_next_tier = "close_to_next_tier"
    points_expiring = "points_expiring"
    lapsing = "lapsing"
    detractor = "detractor"
    unhappy_call = "unhappy_call"
    complaint_open = "complaint_open"
    recall = "recall"
    service_due = "service_due"
    custom_date = "custom_date"
    follow_up = "follow_up"


@dataclass(frozen=True)
class MomentInfo:
    """What the planner needs to know about a kind of moment.

    ``priority``: higher wins when several moments compete for one customer's attention.
    ``human_weight``: how much a person (rather than a template) adds, for capacity.
    ``greeting``: the moment is a greeting, so a visit today moves it to the counter.
    ``label``: how a manager reads it in a plan.
    """

    priority: int
    human_weight: int
    greeting: bool
    label: str


MOMENTS: dict[MomentKind, MomentInfo] = {
    MomentKind.recall: MomentInfo(95, 9, False, "recall on an asset the household owns"),
    MomentKind.complaint_open: MomentInfo(90, 10, False, "complaint still open"),
    MomentKind.detractor: MomentInfo(88, 10, False, "unhappy survey answer"),
    MomentKind.unhappy_call: MomentInfo(87, 10, False, "unhappy call"),
    MomentKind.follow_up: MomentInfo(85, 8, False, "follow-up promised"),
    MomentKind.birthday: MomentInfo(80, 7, True, "birthday"),
    MomentKind.household_birthday: MomentInfo(60, 5, True, "birthday in the household"),
    MomentKind.first_purchase: MomentInfo(75, 8, False, "first purchase"),
    MomentKind.tier_down: MomentInfo(72, 8, False, "moved down a tier"),
    MomentKind.tier_grace: MomentInfo(71, 7, False, "tier kept on grace"),
    MomentKind.tier_up: MomentInfo(70, 6, False, "moved up a tier"),
    MomentKind.lapsing: MomentInfo(68, 7, False, "lapsing regular"),
    MomentKind.service_due: MomentInfo(66, 5, False, "service due"),
    MomentKind.large_purchase: MomentInfo(64, 6, False, "large purchase"),
    MomentKind.anniversary: MomentInfo(62, 4, True, "membership anniversary"),
    MomentKind.purchase_milestone: MomentInfo(58, 4, False, "purchase milestone"),
    MomentKind.points_expiring: MomentInfo(56, 3, False, "points about to expire"),
    MomentKind.close_to_next_tier: MomentInfo(50, 2, False, "close to the next tier"),
    MomentKind.custom_date: MomentInfo(54, 5, True, "a date that matters to them"),
}

#: Purchase counts that deserve a thank-you beyond the first.
MILESTONES = frozenset({2, 3, 5})


@dataclass(frozen=True)
class Candidate:
    """One moment found for one customer on one occasion (the key of its decision).

    ``occasion`` makes the key unique per happening: the year of a birthday, the id of the
    recall, the ticket of the complaint. ``detail`` says it in words ("Marta's birthday").
    """

    customer_id: int
    moment: MomentKind
    occasion: str
    detail: str = ""
    facts: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple[int, str, str]:
        # The member is itself a str equal to its value (StrEnum), and cheaper than ``.value``.
        return (self.customer_id, self.moment, self.occasion)


def birthday_keys(day: date, leap_rule: str = "feb28") -> list[int]:
    """The birthday keys (month*100+day) celebrated on ``day``.

    29 February birthdays are celebrated on 28 February or 1 March in common years, as the
    business chooses; in leap years on the day itself.
    """
    keys = [day.month * 100 + day.day]
    if _stands_in_for_leap_day(day, leap_rule):
        keys.append(229)
    return keys


def enrolment_days(day: date, years: int, leap_rule: str = "feb28") -> list[date]:
    """The enrolment dates ``years`` before ``day`` whose anniversary is celebrated on it.

    As for birthdays, an enrolment on 29 February is celebrated on 28 February or 1 March in
    common years (``leap_rule``), and on 29 February itself in leap years.
    """
    year = day.year - years
    days: list[date] = []
    if (day.month, day.day) != (2, 29) or _is_leap(year):
        days.append(day.replace(year=year))
    if _is_leap(year) and _stands_in_for_leap_day(day, leap_rule):
        days.append(date(year, 2, 29))
    return days


def _stands_in_for_leap_day(day: date, leap_rule: str) -> bool:
    """In a common year, the day chosen to celebrate what happened on a 29 February."""
    return not _is_leap(day.year) and (
        (leap_rule == "feb28" and (day.month, day.day) == (2, 28))
        or (leap_rule == "mar1" and (day.month, day.day) == (3, 1))
    )


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def is_milestone(purchase_count: int) -> bool:
    return purchase_count in MILESTONES


def usual_gap_days(first_seen: datetime, last_purchase: datetime, purchases: int) -> float | None:
    """This customer's own rhythm: average days between purchases, or None if unknown."""
    if purchases < 3 or last_purchase <= first_seen:
        return None
    return (last_purchase - first_seen).total_seconds() / 86_400 / (purchases - 1)


def is_lapsing(
    last_visit: datetime, usual_gap: float | None, now: datetime, factor: float, minimum_days: int
) -> bool:
    """A regular is lapsing once the silence is ``factor`` times their usual gap (and a floor).

    The floor stops a daily regular from being "lapsing" after a long weekend.
    """
    if usual_gap is None:
        return False
    silence = now - last_visit
    return silence >= max(timedelta(days=usual_gap * factor), timedelta(days=minimum_days))


def moment_label(moment: MomentKind, detail: str = "") -> str:
    label = MOMENTS[moment].label
    return f"{label} ({detail})" if detail else label
