"""The program simulator: replay recorded history under a proposed program (and a baseline).

A program manager asks "what would this program have cost us last year, and whom would it
have rewarded?". The simulator reads the recorded purchases and returns once, in one
streaming query, and feeds each event to an in-memory replay per program using the very
earning and tier rules the live engine uses. Nothing is written.

Assumptions, stated in every report:

- Members redeem the cheapest reward their tier allows as soon as they can afford it. Which
  members redeem at all comes from history: the share of members who ever redeemed (or
  ``redeemer_percent`` when given), picked deterministically by customer id.
- Points are spendable when earned (the return window is ignored for redemption timing).
- A return takes back points pro rata to the money refunded (categories are not re-weighed).
- Tiers start from the qualifying history before ``start`` (a warm-up of one window) and are
  reviewed at each month's end with the program's soft landing and grace.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, String, func, select, type_coerce

from regulars.domain.earning import MemberEarning, Rates, earn_purchase, in_program_money
from regulars.domain.ledger import add_months
from regulars.domain.money import amount_text, money_text
from regulars.domain.program import Program
from regulars.domain.tiers import month_key, review, tier_for, window_months
from regulars.store.loyalty_tables import loyalty_members, loyalty_redemptions
from regulars.store.tables import customers, events, locations
from regulars.store.uow import UnitOfWork

SEGMENTS = ("1 purchase", "2–4 purchases", "5–11 purchases", "12+ purchases")


def _segment(purchases: int) -> str:
    if purchases <= 1:
        return SEGMENTS[0]
    if purchases <= 4:
        return SEGMENTS[1]
    if purchases <= 11:
        return SEGMENTS[2]
    return SEGMENTS[3]


@dataclass(slots=True)
class _Member:
    earning: MemberEarning
    tier: int = 0
    start_tier: int | None = None
    grace: int | None = None
    months: dict[int, int] = field(default_factory=dict)  # yyyymm → qualifying amount
    lots: deque[list[Any]] = field(default_factory=deque)  # [expires_ts, remaining]
    balance: int = 0
    last_activity: float = 0.0
    purchases: int = 0
    issued: int = 0
    window: tuple[int, int, int] | None = None  # cached (first, last, amount) of the tier window
    redeemer: bool = False


@dataclass
class ProgramOutcome:
    """What one program would have done over the period."""

    code: str
    name: str
    currency: str
    members: int = 0
    issued: int = 0
    redeemed: int = 0
    expired: int = 0
    reversed: int = 0
    outstanding: int = 0
    liability: int = 0
    issued_value: int = 0
    redeemed_value: int = 0
    per_rule: dict[str, int] = field(default_factory=dict)
    per_category: dict[str, int] = field(default_factory=dict)
    tiers_before: dict[str, int] = field(default_factory=dict)
    tiers_after: dict[str, int] = field(default_factory=dict)
    moved_up: int = 0
    moved_down: int = 0
    up_examples: list[dict[str, Any]] = field(default_factory=list)
    down_examples: list[dict[str, Any]] = field(default_factory=list)
    cost_per_member: dict[str, dict[str, int]] = field(default_factory=dict)
    monthly_issued: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Simulation:
    start: date
    end: date
    events: int
    proposed: ProgramOutcome
    baseline: ProgramOutcome | None
    redeemer_percent: int
    assumptions: list[str]
    findings: list[str]
    differences: dict[str, Any]
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "events": self.events,
            "redeemer_percent": self.redeemer_percent,
            "proposed": self.proposed.as_dict(),
            "baseline": self.baseline.as_dict() if self.baseline else None,
            "differences": self.differences,
            "assumptions": self.assumptions,
            "findings": self.findings,
            "seconds": round(self.seconds, 2),
        }


class _Replay:
    """One program's replay: per-member state in dicts, no queries."""

    def __init__(
        self,
        program: Program,
        places: dict[int, tuple[str, str, ZoneInfo]],
        start: datetime,
        members_only: set[int] | None,
        redeems: Any,
    ) -> None:
        self.program = program
        self.rates = Rates.of(program)
        self.levels = program.tiers.levels
        self.top = len(self.levels) - 1
        self.by_points = program.tiers.qualify_on == "points"
        self.start = start
        self.start_ts = start.timestamp()
        self.members: dict[int, _Member] = {}
        #: Earning counters (bonuses, caps) of the warm-up, for tiers on points.
        self.warmup: dict[int, MemberEarning] = {}
        self.members_only = members_only
        self.redeems = redeems
        self.zone = ZoneInfo(program.timezone)
        self.partner_sources = {p.source for p in program.earning.partners}
        locs = set(program.applies_to.locations)
        brands = set(program.applies_to.brands)
        everywhere = not locs and not brands
        self.applies = {
            lid: everywhere or code in locs or brand in brands
            for lid, (code, brand, _) in places.items()
        }
        self.everywhere = everywhere
        self.zones = {lid: zone for lid, (_, _, zone) in places.items()}
        #: event id → [line, bonus, net, refunded, lot or None, cid, month it counted in]
        self.purchases: dict[int, list[Any]] = {}
        self.out = ProgramOutcome(program.code, program.name, program.currency)
        self.per_rule: dict[str, int] = {}
        self.weight_by_category: Counter[str] = Counter()
        self.monthly: Counter[str] = Counter()
        cheapest: list[tuple[int, int, int]] = []
        for reward in program.rewards:
            need = program.tier_index(reward.min_tier) if reward.min_tier else 0
            cheapest.append((need, reward.points, reward.value))
        ranked = sorted(cheapest, key=lambda r: r[1])
        #: The cheapest reward each tier may have: (points, value), or None.
        self.cheapest: list[tuple[int, int] | None] = [
            next(((pts, value) for need, pts, value in ranked if need <= tier), None)
            for tier in range(len(self.levels))
        ]
        months = program.expiry.months
        self.expiry_mode = program.expiry.mode
        self.expiry_seconds = months * 30.44 * 86400  # only to order inactivity, see _expire
        self.months = months
        self.last_review_month = 0
        self.line_points = 0
        self._days: dict[date, tuple[int, float, int, int, str]] = {}
        self._local: dict[tuple[int | None, int], date] = {}

    # -- per event ----------------------------------------------------------------------

    def member(self, cid: int) -> _Member | None:
        m = self.members.get(cid)
        if m is None:
            if self.members_only is not None and cid not in self.members_only:
                return None
            m = _Member(MemberEarning(), redeemer=self.redeems(cid))
            self.members[cid] = m
        return m

    def local_day(self, location: int | None, ts: float) -> date:
        """The local date at a location, cached per quarter hour (every zone offset is a
        whole number of quarter hours)."""
        key = (location, int(ts) // 900)
        day = self._local.get(key)
        if day is None:
            zone = self.zones.get(location, self.zone) if location is not None else self.zone
            day = datetime.fromtimestamp(ts, zone).date()
            self._local[key] = day
        return day

    def purchase(
        self,
        eid: int,
        cid: int,
        ts: float,
        location: int | None,
        source: str,
        lines: list[tuple[str, int]],
        currency: str = "EUR",
    ) -> None:
        if not (
            source in self.partner_sources
            or (self.applies.get(location, False) if location is not None else self.everywhere)
        ) or not self.rates.earns_in(currency):
            return
        exchange = self.rates.exchange_of(currency)
        m = self.members.get(cid)
        if m is None:
            m = self.member(cid)
            if m is None:
                return
        key = (location, int(ts) // 900)
        day = self._local.get(key)
        if day is None:
            day = self.local_day(location, ts)
        facts = self._days.get(day)
        if facts is None:
            facts = self._day_facts(day)
        month, expires, first, last, label = facts
        if location is not None and self.zones.get(location, self.zone) is not self.zone:
            # Tier months are the program's own, as the live engine counts them.
            home_day = self.local_day(None, ts)
            home = self._days.get(home_day) or self._day_facts(home_day)
            month, first, last = home[0], home[2], home[3]
        excluded = self.rates.excluded
        if ts < self.start_ts:
            if self.by_points:  # what the purchase earned, counted apart from the period's
                history = self.warmup.get(cid)
                if history is None:
                    history = self.warmup[cid] = MemberEarning()
                gain = earn_purchase(
                    self.rates,
                    history,
                    lines,
                    source=source,
                    local_day=day,
                    tier_index=0,
                    exchange=exchange,
                ).points
            else:
                gain = 0
                for category, net in lines:
                    if category not in excluded and net > 0:
                        gain += net
                if exchange is not None:
                    gain = in_program_money(gain, exchange)
            m.months[month] = m.months.get(month, 0) + gain
            return
        if month != self.last_review_month:
            self._review_until(month)
        if m.start_tier is None:
            m.start_tier = self._tier_at_start(m)
            m.tier = m.start_tier
        if (m.lots and m.lots[0][0] <= ts) or self.expiry_mode == "inactivity":
            self._expire(m, ts)
        earned = earn_purchase(
            self.rates,
            m.earning,
            lines,
            source=source,
            local_day=day,
            tier_index=m.tier,
            exchange=exchange,
        )
        points = earned.points
        spend = earned.spend
        m.purchases += 1
        if points:
            per_rule = self.per_rule
            for rule, pts in earned.rules.items():
                per_rule[rule] = per_rule.get(rule, 0) + pts
            weights = self.weight_by_category
            percent = self.rates.percent
            for category, net in lines:
                if category not in excluded and net > 0:
                    paid = net if exchange is None else in_program_money(net, exchange)
                    weights[category] += paid * percent.get(category, 100)
            self.line_points += earned.line_points
            lot = [expires, points]
            m.lots.append(lot)
            m.balance += points
            m.issued += points
            m.last_activity = ts
            self.out.issued += points
            self.monthly[label] += points
            self.purchases[eid] = [
                earned.line_points,
                earned.bonus_points,
                spend,
                0,
                lot,
                cid,
                month,
                exchange,
            ]
        elif spend:  # nothing earned (a cap), yet the spend counts towards the tier
            self.purchases[eid] = [0, 0, spend, 0, None, cid, month, exchange]
        gain = points if self.by_points else spend
        m.months[month] = m.months.get(month, 0) + gain
        if m.tier < self.top:
            window = m.window
            if window is not None and window[0] == first and window[1] == last:
                amount = window[2] + gain
            else:
                amount = sum(v for k, v in m.months.items() if first <= k <= last)
            m.window = (first, last, amount)
            target = tier_for(self.levels, amount)
            if target > m.tier:
                m.tier = target
        cheapest = self.cheapest[m.tier]
        if cheapest is not None and m.balance >= cheapest[0] and m.redeemer:
            self._redeem(m, ts)

    def _day_facts(self, day: date) -> tuple[int, float, int, int, str]:
        """What every purchase on a local day shares: its month, lot expiry, tier window."""
        first, last = window_months(self.program, day)
        expires = (
            add_months(datetime.combine(day, time(23, 59), self.zone), self.months).timestamp()
            if self.expiry_mode == "earn_date"
            else float("inf")
        )
        facts = (month_key(day), expires, first, last, f"{day.year}-{day.month:02d}")
        self._days[day] = facts
        return facts

    def refund(self, cid: int, ts: float, purchase_id: int | None, refund: int) -> None:
        record = self.purchases.get(purchase_id or 0)
        if record is None or record[5] != cid or ts < self.start_ts:
            return
        m = self.members.get(cid)
        if m is None:
            return
        line, bonus, net, refunded, lot, _, month, exchange = record
        if net <= 0:
            return
        if exchange is not None:  # the refund is in the receipt's money, the spend in ours
            refund = in_program_money(refund, exchange)
        after = min(net, refunded + refund)
        take = line * after // net - line * min(net, refunded) // net
        if refunded < net <= refunded + refund:
            take += bonus
        record[3] = after
        got = min(take, lot[1]) if lot is not None else 0
        if lot is not None:
            lot[1] -= got
        rest = take - got
        if rest:
            for other in m.lots:
                step = min(rest, other[1])
                other[1] -= step
                got += step
                rest -= step
                if not rest:
                    break
        m.balance -= got
        self.out.reversed += got
        # Out of the month the purchase counted in, as the live engine books it: a return a
        # year on must not cost this year's window what last year's purchase gave.
        if not self.by_points:
            m.months[month] = m.months.get(month, 0) - (after - refunded)
        else:
            m.months[month] = m.months.get(month, 0) - got
        m.window = None  # the cached window sum no longer holds

    # -- state changes ------------------------------------------------------------------

    def _review_window(self, day: date) -> tuple[int, int]:
        """The months a review on ``day`` counts, as the live review does: a rolling window
        is the one that ended with the month just finished (plus ``day``'s month so far)."""
        first, last = window_months(self.program, day)
        if self.program.tiers.window == "rolling":
            first, _ = window_months(self.program, day.replace(day=1) - timedelta(days=1))
        return first, last

    def _tier_at_start(self, m: _Member) -> int:
        first, last = self._review_window(self.start.astimezone(self.zone).date())
        amount = sum(v for k, v in m.months.items() if first <= k <= last)
        return tier_for(self.levels, amount)

    def _expire(self, m: _Member, ts: float) -> None:
        if self.expiry_mode == "earn_date":
            while m.lots and m.lots[0][0] <= ts:
                lot = m.lots.popleft()
                if lot[1]:
                    self.out.expired += lot[1]
                    m.balance -= lot[1]
                    lot[1] = 0
        elif self.expiry_mode == "inactivity" and m.last_activity and m.balance:
            limit = add_months(datetime.fromtimestamp(m.last_activity, UTC), self.months)
            if limit.timestamp() <= ts:
                self.out.expired += m.balance
                m.balance = 0
                for lot in m.lots:
                    lot[1] = 0
                m.lots.clear()

    def _redeem(self, m: _Member, ts: float) -> None:
        choice = self.cheapest[m.tier]
        while True:
            if choice is None or m.balance < choice[0]:
                return
            pts, value = choice
            left = pts
            while left:
                lot = m.lots[0]
                step = min(left, lot[1])
                lot[1] -= step
                left -= step
                if lot[1] == 0:
                    m.lots.popleft()
            m.balance -= pts
            m.last_activity = ts
            self.out.redeemed += pts
            self.out.redeemed_value += value

    def _review_until(self, month: int) -> None:
        """Review every member at each month end passed since the last review."""
        if self.last_review_month == 0:
            self.last_review_month = month
            return
        while self.last_review_month < month:
            reviewed = self.last_review_month
            year, mon = divmod(reviewed, 100)
            next_month = (year + 1) * 100 + 1 if mon == 12 else reviewed + 1
            day = date(next_month // 100, next_month % 100, 1)
            first, last = self._review_window(day)
            calendar_year = self.program.tiers.window == "calendar_year"
            for m in self.members.values():
                if m.start_tier is None:
                    continue
                amount = sum(v for k, v in m.months.items() if first <= k <= last)
                if calendar_year:  # a tier earned last year is kept through this one
                    before = sum(v for k, v in m.months.items() if first - 100 <= k < first)
                    amount = max(amount, before)
                outcome = review(self.program, m.tier, amount, m.grace)
                m.tier, m.grace = outcome.tier, outcome.reviews_since_grace
            self.last_review_month = next_month

    # -- the end -------------------------------------------------------------------------

    def finish(self, end: datetime, names: dict[int, str]) -> ProgramOutcome:
        out = self.out
        end_ts = end.timestamp()
        tiers_before: Counter[str] = Counter()
        tiers_after: Counter[str] = Counter()
        cost: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        value_per_point = self.program.value_of_100_points
        for cid, m in self.members.items():
            if m.start_tier is None:
                continue
            self._expire(m, end_ts)
            out.members += 1
            out.outstanding += m.balance
            tiers_before[self.levels[m.start_tier].code] += 1
            tiers_after[self.levels[m.tier].code] += 1
            if m.tier > m.start_tier:
                out.moved_up += 1
                if len(out.up_examples) < 5:
                    out.up_examples.append(self._example(cid, m, names))
            elif m.tier < m.start_tier:
                out.moved_down += 1
                if len(out.down_examples) < 5:
                    out.down_examples.append(self._example(cid, m, names))
            seg = cost[_segment(m.purchases)]
            seg[0] += 1
            seg[1] += m.issued
        out.liability = self.program.money_of(out.outstanding)
        out.issued_value = self.program.money_of(out.issued)
        out.per_rule = dict(sorted(self.per_rule.items(), key=lambda kv: -kv[1]))
        weight = sum(self.weight_by_category.values()) or 1
        out.per_category = {
            category: self.line_points * w // weight
            for category, w in self.weight_by_category.most_common()
        }
        out.tiers_before = {t.code: tiers_before.get(t.code, 0) for t in self.levels}
        out.tiers_after = {t.code: tiers_after.get(t.code, 0) for t in self.levels}
        out.cost_per_member = {
            name: {
                "members": cost[name][0],
                "points": cost[name][1],
                "cost_per_member": (
                    cost[name][1] * value_per_point // 100 // cost[name][0] if cost[name][0] else 0
                ),
            }
            for name in SEGMENTS
        }
        out.monthly_issued = dict(sorted(self.monthly.items()))
        return out

    def _example(self, cid: int, m: _Member, names: dict[int, str]) -> dict[str, Any]:
        return {
            "customer_id": cid,
            "name": names.get(cid, ""),
            "from": self.levels[m.start_tier or 0].name,
            "to": self.levels[m.tier].name,
            "purchases": m.purchases,
        }


def _stream(conn: Connection, since: datetime, until: datetime) -> Iterator[Any]:
    """Purchases and returns in time order, read with one streaming query."""
    e = events.c
    query = (
        select(
            e.id,
            e.customer_id,
            e.type,
            # Raw values: the driver's text (SQLite) or its own objects (PostgreSQL) are
            # turned into a timestamp and a dict below, faster than the column types would.
            type_coerce(e.occurred_at, String()),
            e.location_id,
            e.source,
            e.ref_event_id,
            type_coerce(e.payload, String()),
        )
        .where(
            e.type.in_(("purchase", "return")),
            e.occurred_at >= since,
            e.occurred_at < until,
            e.customer_id.is_not(None),
        )
        .order_by(e.occurred_at, e.id)
    )
    result = conn.execution_options(stream_results=True, yield_per=5000).execute(query)
    yield from result


def _timestamp(value: Any) -> float:
    """Seconds since the epoch of a stored instant (UTC text on SQLite, aware on PostgreSQL)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _redeemer_percent(conn: Connection, code: str) -> int | None:
    members = conn.scalar(
        select(func.count()).select_from(loyalty_members).where(loyalty_members.c.program == code)
    )
    if not members:
        return None
    redeemers = conn.scalar(
        select(func.count(func.distinct(loyalty_redemptions.c.customer_id))).where(
            loyalty_redemptions.c.program == code
        )
    )
    if not redeemers:
        return None
    return max(1, int(redeemers) * 100 // int(members))


def simulate(
    uow: UnitOfWork,
    proposed: Program,
    *,
    start: date,
    end: date,
    baseline: Program | None = None,
    redeemer_percent: int | None = None,
) -> Simulation:
    """Replay purchases and returns between ``start`` and ``end`` (inclusive, local days of
    the proposed program's time zone).

    Pass a read-only unit of work (``runtime.uow(readonly=True)``): the replay writes nothing.
    """
    started = perf_counter()
    # The days are the proposed program's own: a Tokyo program's March starts at midnight
    # in Tokyo, nine hours before UTC's.
    home = ZoneInfo(proposed.timezone)
    begin = datetime.combine(start, time(0), home)
    finish = datetime.combine(end + timedelta(days=1), time(0), home)
    programs = [p for p in (proposed, baseline) if p is not None]
    warmup_months = max(
        12 if p.tiers.window == "calendar_year" else p.tiers.window_months for p in programs
    )
    since = add_months(begin, -warmup_months)
    with uow:
        conn = uow.conn
        places = {
            int(lid): (code, brand or "", ZoneInfo(tz))
            for lid, code, brand, tz in conn.execute(
                select(locations.c.id, locations.c.code, locations.c.brand, locations.c.timezone)
            )
        }
        share = redeemer_percent
        source = "given with --redeemers"
        if share is None:
            source = "measured from recorded redemptions"
            share = _redeemer_percent(conn, proposed.code) or (
                _redeemer_percent(conn, baseline.code) if baseline else None
            )
        if share is None:
            source = "assumed: no redemptions were recorded"
            share = 50
        percent = share

        def redeems(cid: int) -> bool:
            return (cid * 2654435761) % 100 < percent

        def opt_in_members(program: Program) -> set[int] | None:
            if program.enrolment != "opt_in":
                return None
            ids = set(
                conn.scalars(
                    select(loyalty_members.c.customer_id).where(
                        loyalty_members.c.program == program.code
                    )
                )
            )
            return ids or None

        replays = [_Replay(p, places, begin, opt_in_members(p), redeems) for p in programs]
        count = 0
        begin_ts = begin.timestamp()
        for eid, cid, kind, at, location, source, ref, payload in _stream(conn, since, finish):
            ts = _timestamp(at)
            data = payload if isinstance(payload, dict) else json.loads(payload)
            if kind == "purchase":
                lines = [
                    (
                        line.get("category", "general"),
                        int(line["unit_price"]) * int(line.get("quantity", 1))
                        - int(line.get("discount", 0)),
                    )
                    for line in data["lines"]
                ]
                currency = str(data.get("currency") or "EUR")
                for replay in replays:
                    replay.purchase(eid, cid, ts, location, source, lines, currency)
            else:
                refund = int(data.get("refund") or 0)
                for replay in replays:
                    replay.refund(cid, ts, ref, refund)
            if ts >= begin_ts:
                count += 1
        examples = {
            cid
            for replay in replays
            for cid, m in replay.members.items()
            if m.start_tier is not None and m.tier != m.start_tier
        }
        names = _names(conn, sorted(examples)[:2000])
        outcomes = [replay.finish(finish, names) for replay in replays]
        differences = _compare(replays[0], replays[1], names) if len(replays) == 2 else {}
    result = Simulation(
        start=start,
        end=end,
        events=count,
        proposed=outcomes[0],
        baseline=outcomes[1] if len(outcomes) == 2 else None,
        redeemer_percent=percent,
        assumptions=_assumptions(percent, source),
        findings=[],
        differences=differences,
    )
    result.findings = findings(result, baseline_program=baseline, proposed_program=proposed)
    result.seconds = perf_counter() - started
    return result


def _names(conn: Connection, ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        for cid, first, last in conn.execute(
            select(customers.c.id, customers.c.first_name, customers.c.last_name).where(
                customers.c.id.in_(part)
            )
        ):
            out[int(cid)] = f"{first} {last}".strip()
    return out


def _compare(proposed: _Replay, baseline: _Replay, names: dict[int, str]) -> dict[str, Any]:
    """Members whose tier at the end differs between the two programs."""
    higher: list[dict[str, Any]] = []
    lower: list[dict[str, Any]] = []
    up = down = 0
    for cid, m in proposed.members.items():
        other = baseline.members.get(cid)
        if other is None or m.start_tier is None or other.start_tier is None:
            continue
        mine = m.tier / max(1, proposed.top)
        theirs = other.tier / max(1, baseline.top)
        if mine > theirs:
            up += 1
            if len(higher) < 5:
                higher.append(
                    {
                        "customer_id": cid,
                        "name": names.get(cid, ""),
                        "baseline": baseline.levels[other.tier].name,
                        "proposed": proposed.levels[m.tier].name,
                    }
                )
        elif mine < theirs:
            down += 1
            if len(lower) < 5:
                lower.append(
                    {
                        "customer_id": cid,
                        "name": names.get(cid, ""),
                        "baseline": baseline.levels[other.tier].name,
                        "proposed": proposed.levels[m.tier].name,
                    }
                )
    return {
        "higher_than_baseline": up,
        "lower_than_baseline": down,
        "higher_examples": higher,
        "lower_examples": lower,
    }


def _assumptions(percent: int, source: str) -> list[str]:
    return [
        f"{percent} % of members redeem ({source}), "
        "choosing the cheapest reward their tier allows as soon as they can afford it.",
        "Points are spendable when earned; the return window is not simulated.",
        "A return takes back points pro rata to the money refunded.",
        "Tiers start from one window of history before the start date and are reviewed "
        "at each month's end.",
    ]


def findings(
    sim: Simulation, *, baseline_program: Program | None, proposed_program: Program
) -> list[str]:
    """Plain sentences a program manager should read first."""
    out: list[str] = []
    p = sim.proposed
    cur = p.currency
    if p.issued:
        breakage = p.expired * 100 // p.issued
        out.append(
            f"{proposed_program.name} would have issued {p.issued:,} points "
            f"({money_text(p.issued_value, cur)}); {p.redeemed:,} redeemed, {p.expired:,} "
            f"expired ({breakage} % breakage), leaving {money_text(p.liability, cur)} owed."
        )
    issued_by_rules = sum(v for v in p.per_rule.values() if v > 0) or 1
    bonuses = sum(v for k, v in p.per_rule.items() if "bonus" in k and "tier" not in k)
    if bonuses * 100 // issued_by_rules >= 25:
        out.append(
            f"Bonuses (welcome and purchase-count) are {bonuses * 100 // issued_by_rules} % of "
            "the points issued: they reward coming back more than spending."
        )
    rewarded_excluded = []
    if baseline_program is not None:
        before = set(baseline_program.earning.excluded_categories)
        rewarded_excluded = [c for c in p.per_category if c in before and p.per_category[c] > 0]
    for category in rewarded_excluded:
        out.append(
            f"Category {category!r} earns {p.per_category[category]:,} points under the "
            "proposal but nothing today: check that this is behaviour you want to reward."
        )
    total = sum(p.per_category.values()) or 1
    for category, points in p.per_category.items():
        if category in rewarded_excluded:
            continue
        if any(word in category.lower() for word in ("fee", "cash", "withdraw", "overdraft")):
            out.append(
                f"Category {category!r} earns {points:,} points ({points * 100 // total} % of "
                "purchase points): points for fees reward what members resent paying."
            )
    if sim.baseline is not None:
        b = sim.baseline
        delta = p.issued_value - b.issued_value
        word = "more" if delta >= 0 else "less"
        out.append(
            f"Compared with {b.name}: {money_text(abs(delta), cur)} {word} in points issued; "
            f"liability {amount_text(b.liability)} → {money_text(p.liability, cur)}."
        )
        d = sim.differences
        if d.get("higher_than_baseline") or d.get("lower_than_baseline"):
            out.append(
                f"{d['higher_than_baseline']:,} members would end in a higher tier and "
                f"{d['lower_than_baseline']:,} in a lower one than under {b.name}."
            )
    heavy = p.cost_per_member.get(SEGMENTS[3], {})
    light = p.cost_per_member.get(SEGMENTS[0], {})
    if heavy.get("members") and light.get("members"):
        out.append(
            f"A regular (12+ purchases) costs {money_text(heavy['cost_per_member'], cur)}, a "
            f"one-off buyer {money_text(light['cost_per_member'], cur)} over the period."
        )
    if p.moved_down:
        out.append(f"{p.moved_down:,} members would drop a tier during the period.")
    return out


__all__ = ["ProgramOutcome", "Simulation", "findings", "simulate"]
