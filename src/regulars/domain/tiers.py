"""Tiers: where a member stands, and how a review treats one who fell a little short.

Qualification is spend or points *earned* over a window, never the spendable balance, so
redeeming never costs a member their tier. Windows are counted in whole calendar months
(the month of the review and the ``window_months − 1`` before it), which lets ingest keep
one small counter per member and month instead of re-reading history.

A member moves up as soon as they qualify. Moving down only happens at a review, and
gently: with a soft landing they drop at most one tier per review; with grace they keep
their tier when within ``grace_percent`` of its threshold, at most once every
``grace_once_per_reviews`` reviews.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from regulars.domain.money import money_text
from regulars.domain.program import Program, Tier

Change = Literal["up", "down", "grace", "same"]


def month_key(day: date) -> int:
    return day.year * 100 + day.month


def window_months(program: Program, today: date) -> tuple[int, int]:
    """The first and last month (yyyymm) that count towards the tier on ``today``."""
    last = month_key(today)
    if program.tiers.window == "calendar_year":
        return today.year * 100 + 1, last
    index = today.year * 12 + today.month - 1 - (program.tiers.window_months - 1)
    return (index // 12) * 100 + index % 12 + 1, last


def window_end(program: Program, today: date) -> date:
    """The last day the current window's figures can still grow (end of year or of month)."""
    if program.tiers.window == "calendar_year":
        return date(today.year, 12, 31)
    return date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])


def tier_for(levels: Sequence[Tier], amount: int) -> int:
    """The highest tier whose threshold the amount reaches (index into ``levels``)."""
    found = 0
    for index, tier in enumerate(levels):
        if amount >= tier.threshold:
            found = index
    return found


@dataclass(frozen=True)
class Review:
    """The outcome of reviewing one member: the tier they keep and what to tell them."""

    tier: int
    change: Change
    reviews_since_grace: int | None  # None: grace never used
    detail: str


def review(program: Program, current: int, amount: int, reviews_since_grace: int | None) -> Review:
    """Re-evaluate a member's tier at a review (nightly or at the end of a period).

    Monotone by construction: more spend never gives a lower tier, because the target
    tier, the grace condition and the soft landing all only improve as ``amount`` grows.
    """
    rules = program.tiers
    levels = rules.levels
    current = min(max(current, 0), len(levels) - 1)
    target = tier_for(levels, amount)
    counter = None if reviews_since_grace is None else reviews_since_grace + 1
    if target > current:
        return Review(target, "up", counter, f"qualified for {levels[target].name}")
    if target == current:
        return Review(current, "same", counter, "")
    # At most once every N reviews: the review N after a grace may grant it again.
    grace_ready = counter is None or counter >= rules.grace_once_per_reviews
    floor = levels[current].threshold * (100 - rules.grace_percent) // 100
    if rules.grace_percent and grace_ready and amount >= floor:
        short = levels[current].threshold - amount
        return Review(
            current,
            "grace",
            0,
            f"{short} short of {levels[current].name}; kept it with grace this time",
        )
    landing = max(target, current - 1) if rules.soft_landing else target
    return Review(
        landing,
        "down",
        counter,
        f"{levels[current].name} needs {levels[current].threshold}; had {amount}",
    )


@dataclass(frozen=True)
class Progress:
    next_tier: Tier | None
    needed: int  # more spend (minor units) or points to reach the next tier
    percent: int  # of the next tier's threshold reached, 0–100
    words: str


def progress(program: Program, current: int, amount: int, by: date | None) -> Progress:
    """How far the member is from the next tier, in numbers and in a sentence."""
    levels = program.tiers.levels
    if current + 1 >= len(levels):
        return Progress(None, 0, 100, f"You are at our top tier, {levels[current].name}.")
    nxt = levels[current + 1]
    needed = max(0, nxt.threshold - amount)
    percent = min(100, amount * 100 // nxt.threshold) if nxt.threshold else 100
    if program.tiers.qualify_on == "spend":
        how = f"{money_text(needed, program.currency)} more spend"
    else:
        how = f"{needed} more points"
    if by is not None:
        when = f" by {by.isoformat()}"
    else:
        when = f" within a rolling {program.tiers.window_months} months"
    return Progress(nxt, needed, percent, f"{how}{when} to reach {nxt.name}.")
