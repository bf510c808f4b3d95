"""Ledger arithmetic: lots of points, which ones a debit spends, and when they expire.

Every credit (a purchase's points, goodwill, an adjustment) is a *lot* with its own earn
date, maturity and expiry. The balance is the sum of the ledger's movements; the lots say
which points those are. A redemption spends the lots nearest to expiry first (the one good
idea of Odoo's loyalty module), so members lose as little as possible to expiry.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal

from regulars.domain.program import Program

Kind = Literal["earn", "mature", "redeem", "expire", "reverse", "adjust", "goodwill"]
KINDS: tuple[Kind, ...] = ("earn", "mature", "redeem", "expire", "reverse", "adjust", "goodwill")


@dataclass(frozen=True)
class Lot:
    id: int
    remaining: int
    expires_at: datetime | None


def spend_order(lots: Sequence[Lot]) -> list[Lot]:
    """Nearest expiry first; lots that never expire last; then oldest first."""
    return sorted(
        lots,
        key=lambda lot: (
            lot.expires_at is None,
            lot.expires_at.timestamp() if lot.expires_at else 0.0,
            lot.id,
        ),
    )


def allocate(lots: Sequence[Lot], points: int) -> list[tuple[int, int]]:
    """Which lots pay for ``points`` and how much each gives: ``[(lot id, points)]``.

    Raises ValueError when the lots hold less than asked; callers check the balance first.
    """
    if points < 0:
        raise ValueError("cannot spend a negative number of points")
    out: list[tuple[int, int]] = []
    left = points
    for lot in spend_order(lots):
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            out.append((lot.id, take))
            left -= take
    if left:
        raise ValueError(f"{left} points short")
    return out


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later (the last day of a shorter month), same time of day."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def lot_dates(program: Program, earned_at: datetime) -> tuple[datetime, datetime | None]:
    """When a lot earned at ``earned_at`` becomes spendable, and when it expires."""
    return LotClock.of(program).dates(earned_at)


@dataclass(frozen=True, slots=True)
class LotClock:
    """``lot_dates`` for one program, its settings read once (for loops over many lots)."""

    pending: timedelta
    months: int | None  # None: lots do not expire by their earn date

    @classmethod
    def of(cls, program: Program) -> LotClock:
        earn_date = program.expiry.mode == "earn_date"
        return cls(
            timedelta(days=program.earning.pending_days),
            program.expiry.months if earn_date else None,
        )

    def dates(self, earned_at: datetime) -> tuple[datetime, datetime | None]:
        matures = earned_at + self.pending
        if self.months is None:
            return matures, None
        return matures, earned_at + _months_later(earned_at.date(), self.months)


@lru_cache(maxsize=4096)
def _months_later(day: date, months: int) -> timedelta:
    """How far the same day ``months`` later is (cached: a batch shares a few days)."""
    moment = datetime(day.year, day.month, day.day)  # noqa: DTZ001 - a calendar step, no zone
    return add_months(moment, months) - moment
