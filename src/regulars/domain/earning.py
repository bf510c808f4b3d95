"""Earning: how one purchase becomes points, rule by rule, in integer arithmetic.

The rounding rule, once and for all (it is what members will check on their receipts):

1. Only what was actually paid counts: each line's net (after its discount). Lines in a
   reward or discount category, and excluded categories (fees), earn nothing.
2. Each eligible line is weighted by its category multiplier (percent, default 100); the
   weights are summed over the purchase, tax is taken out of the sum when the program
   says prices include it, and the result is converted to points **once per purchase,
   rounded down**: ``points = weighted × rate // (currency_unit × 100)``.
3. The tier accrual bonus and the double-points day are percentages of those line
   points, each rounded down.
4. Bonuses (welcome, 2nd/3rd/5th purchase) are whole points.
5. Caps per day and per period trim the total; line points are trimmed first.

So a 3.50 € latte at 1 point per euro earns 3 points, never 3.5; the lost half point is
the member's only rounding loss on that purchase, not one per line.

The functions are pure and fast: ingest calls them for every purchase of a batch and the
simulator for a million.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache
from typing import NamedTuple

from regulars.domain.program import Program


@dataclass
class MemberEarning:
    """What earning needs to remember about a member between purchases (caller-owned)."""

    purchase_count: int = 0
    welcome_given: bool = False
    double_day: date | None = None
    cap_day: date | None = None
    cap_day_points: int = 0
    cap_month: int = 0  # yyyymm of the period counter below
    cap_month_points: int = 0


class Earned(NamedTuple):
    """Points for one purchase, and why: ``rules`` maps each rule's name to its points.

    A named tuple rather than a frozen dataclass: as immutable, and made three times as fast
    (one per purchase on ingest and in the simulator).
    """

    line_points: int  # reversed pro rata when lines come back
    bonus_points: int  # reversed only when the whole purchase comes back
    basis: int  # weighted eligible net (minor units × percent) the line points were earned on
    rules: dict[str, int]
    spend: int = 0  # eligible net paid, minor units (what tiers on spend count)

    @property
    def points(self) -> int:
        return self.line_points + self.bonus_points

    def reason(self) -> str:
        return _reason(tuple(self.rules.items()))


@lru_cache(maxsize=4096)
def _reason(rules: tuple[tuple[str, int], ...]) -> str:
    """The ledger's words for a purchase's rules (cached: a batch repeats a few hundred)."""
    return ", ".join(f"{name} {pts:+d}" for name, pts in rules if pts) or "nothing eligible"


@dataclass(frozen=True)
class Rates:
    """A program's earning rules pre-digested for the hot loop."""

    unit: int
    rate: int
    tax: int
    excluded: frozenset[str]
    percent: dict[str, int]
    partners: dict[str, tuple[str, int]]
    bonuses: dict[int, int]
    welcome: int
    cap_day: int | None
    cap_month: int | None
    double_percent: int | None
    min_net: int
    tier_bonus: tuple[int, ...]
    tier_bonus_rule: tuple[str, ...]  # each tier's bonus as ``Earned.rules`` names it
    currency: str = "EUR"
    exchange: dict[str, Decimal] = field(default_factory=dict)

    @classmethod
    def of(cls, program: Program) -> Rates:
        e = program.earning
        percent = dict(e.category_multipliers_percent)
        excluded = frozenset(e.excluded_categories) | frozenset(e.reward_categories)
        return cls(
            unit=e.currency_unit,
            rate=e.points_per_unit,
            tax=e.tax_rate_percent,
            excluded=excluded,
            percent=percent,
            partners={p.source: (p.name, p.points_per_unit) for p in e.partners},
            bonuses=dict(e.purchase_bonuses),
            welcome=e.welcome_bonus,
            cap_day=e.cap_per_day,
            cap_month=e.cap_per_month,
            double_percent=e.double_points_day.percent if e.double_points_day else None,
            min_net=e.min_net,
            tier_bonus=tuple(t.accrual_bonus_percent for t in program.tiers.levels),
            tier_bonus_rule=tuple(
                f"tier bonus +{t.accrual_bonus_percent} %" for t in program.tiers.levels
            ),
            currency=program.currency,
            exchange=dict(program.exchange_rates),
        )

    def earns_in(self, currency: str) -> bool:
        """Whether a receipt in ``currency`` earns here: the program's own, or one it has a
        rate for. Any other earns nothing and counts towards no tier."""
        return currency == self.currency or currency in self.exchange

    def exchange_of(self, currency: str) -> Decimal | None:
        """The rate into the program's currency (``None``: it is the program's own)."""
        return None if currency == self.currency else self.exchange[currency]

    def weight(self, category: str, net: int) -> int:
        """The weighted basis of returned or bought units of one category (0 if not eligible)."""
        if category in self.excluded:
            return 0
        return net * self.percent.get(category, 100)


def earn_purchase(
    rates: Rates,
    member: MemberEarning,
    lines: Iterable[tuple[str, int]],
    *,
    source: str,
    local_day: date,
    tier_index: int,
    exchange: Decimal | None = None,
) -> Earned:
    """Points for one purchase of ``(category, net)`` lines; updates ``member``'s counters.

    ``exchange`` converts a receipt in another currency into the program's (``Rates.
    exchange_of``); without it the lines are in the program's currency already.
    """
    partner = rates.partners.get(source)
    eligible = 0
    weighted = 0
    excluded = rates.excluded
    percent = rates.percent
    for category, net in lines:
        if category in excluded or net <= 0:
            continue
        eligible += net
        weighted += net * (100 if partner else percent.get(category, 100))
    rules: dict[str, int] = {}
    # The basis stays in the receipt's own money, as returns weigh their lines in it; the
    # amounts points and tiers are counted on are in the program's.
    raw_weighted = weighted
    if exchange is not None:
        eligible = in_program_money(eligible, exchange)
        weighted = in_program_money(weighted, exchange)
    spend = eligible
    if eligible < rates.min_net or eligible == 0:
        return Earned(0, 0, 0, rules, spend)
    rate = partner[1] if partner else rates.rate
    divisor = rates.unit * 100
    if rates.tax:
        weighted = weighted * 100 // (100 + rates.tax)
        eligible = eligible * 100 // (100 + rates.tax)
    base = eligible * rate // rates.unit
    line_points = weighted * rate // divisor
    rules[f"partner {partner[0]}" if partner else "base"] = base
    if line_points != base:
        rules["category multipliers"] = line_points - base
    tier_bonus = rates.tier_bonus[tier_index] if tier_index < len(rates.tier_bonus) else 0
    plain = line_points
    if tier_bonus:
        extra = plain * tier_bonus // 100
        rules[rates.tier_bonus_rule[tier_index]] = extra
        line_points += extra
    if rates.double_percent and member.double_day == local_day:
        extra = plain * (rates.double_percent - 100) // 100
        rules["double-points day"] = extra
        line_points += extra

    bonus = 0
    if not partner:
        member.purchase_count += 1
        nth = rates.bonuses.get(member.purchase_count)
        if nth:
            rules[f"purchase no. {member.purchase_count} bonus"] = nth
            bonus += nth
    if rates.welcome and not member.welcome_given:
        member.welcome_given = True
        rules["welcome bonus"] = rates.welcome
        bonus += rates.welcome

    allowed = line_points + bonus
    if rates.cap_day is not None:
        if member.cap_day != local_day:
            member.cap_day, member.cap_day_points = local_day, 0
        allowed = min(allowed, max(0, rates.cap_day - member.cap_day_points))
    if rates.cap_month is not None:
        month = local_day.year * 100 + local_day.month
        if member.cap_month != month:
            member.cap_month, member.cap_month_points = month, 0
        allowed = min(allowed, max(0, rates.cap_month - member.cap_month_points))
    if allowed < line_points + bonus:
        rules["cap"] = allowed - line_points - bonus
        trimmed_lines = min(line_points, allowed)
        bonus = allowed - trimmed_lines
        line_points = trimmed_lines
    if rates.cap_day is not None:
        member.cap_day_points += line_points + bonus
    if rates.cap_month is not None:
        member.cap_month_points += line_points + bonus
    # The basis of the points: a return of all of it takes back the lines' points and the
    # bonuses (even when the lines themselves earned nothing).
    basis = raw_weighted
    return Earned(line_points, bonus, basis, rules, spend)


def in_program_money(amount: int, exchange: Decimal) -> int:
    """Minor units of a receipt's currency in the program's, rounded down (exactly, in
    Decimal: a float would make the same receipt earn differently on different days)."""
    return int((Decimal(amount) * exchange).to_integral_value(rounding=ROUND_FLOOR))


def reversal(line_points: int, basis: int, returned_before: int, returning: int) -> int:
    """Points to take back for ``returning`` of a purchase's weighted basis, pro rata.

    Cumulative rounding, as for refunds: the pieces of any sequence of returns add up to
    exactly ``line_points`` once the whole basis has come back.
    """
    if basis <= 0 or line_points <= 0:
        return 0
    after = min(basis, returned_before + returning)
    before = min(basis, returned_before)
    return line_points * after // basis - line_points * before // basis


def return_weight(rates: Rates, lines: Iterable[tuple[str, int]], partner: bool) -> int:
    """The weighted basis of returned lines, matching how the purchase was weighted (pre-tax
    conversion, so that the refunds of every line add up to the purchase's basis exactly)."""
    total = 0
    for category, net in lines:
        if category in rates.excluded or net <= 0:
            continue
        total += net * (100 if partner else rates.percent.get(category, 100))
    return total
