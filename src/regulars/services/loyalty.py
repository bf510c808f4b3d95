"""The loyalty program engine's commands: programs, earning on ingest, membership, status.

``apply_ingested`` is called by ingest for every batch, inside its transaction: it enrols,
earns, reverses returned points and promotes members, with a handful of set-based reads
and writes per batch whatever its size. Tier changes are written back onto the timeline
as ``tier`` events so that the touch planner can turn them into moments.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from regulars.domain.access import Actor
from regulars.domain.earning import (
    Earned,
    Rates,
    earn_purchase,
    in_program_money,
    return_weight,
    reversal,
)
from regulars.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound
from regulars.domain.events import Goodwill, Purchase, Return
from regulars.domain.ledger import LotClock, add_months, lot_dates
from regulars.domain.program import Program, describe, load_program
from regulars.domain.tiers import month_key, progress, tier_for, window_end, window_months
from regulars.services.access import (
    access_customer,
    access_live_customer,
    customers_in_scope,
    require,
    require_manager,
    unreachable_customers,
)
from regulars.services.loyalty_book import (
    Book,
    BookLot,
    LoadedProgram,
    Member,
    current_programs,
    load_members,
    new_member,
    settle,
)
from regulars.store import audit, lookups
from regulars.store.lookups import chunked
from regulars.store.loyalty_tables import (
    loyalty_goodwill,
    loyalty_ledger,
    loyalty_members,
    loyalty_programs,
    loyalty_qualifying,
    loyalty_redemptions,
    loyalty_rewards,
)
from regulars.store.tables import customers, events, locations
from regulars.store.uow import UnitOfWork

if TYPE_CHECKING:
    from regulars.services.ingest import IngestedEvent

#: Goodwill booked by ``services.goodwill`` is put on the timeline from this source; ingest
#: must not book it a second time.
OWN_SOURCE = "regulars"


# -- programs ------------------------------------------------------------------------


def check_program(text: str) -> Program:
    """Validate a program file (InvalidInput lists each problem with its line)."""
    return load_program(text)


def load_program_file(uow: UnitOfWork, actor: Actor, text: str, *, now: datetime) -> int:
    """Put a program (or a new version of it) in force; returns the version number.

    Loading the same text again changes nothing. Rewards' stock is created for new rewards
    and kept for existing ones, so reloading a program never refills a sold-out reward.
    """
    require(actor, "loyalty:write")
    require_manager(actor)
    program = load_program(text)
    with uow:
        conn = uow.conn
        current = conn.execute(
            select(loyalty_programs.c.version, loyalty_programs.c.source_text).where(
                loyalty_programs.c.code == program.code, loyalty_programs.c.current.is_(True)
            )
        ).first()
        if current is not None and current.source_text == text:
            return int(current.version)
        version = (
            int(
                conn.scalar(
                    select(func.coalesce(func.max(loyalty_programs.c.version), 0)).where(
                        loyalty_programs.c.code == program.code
                    )
                )
                or 0
            )
            + 1
        )
        conn.execute(
            update(loyalty_programs)
            .where(loyalty_programs.c.code == program.code)
            .values(current=False)
        )
        conn.execute(
            loyalty_programs.insert().values(
                code=program.code,
                version=version,
                name=program.name,
                source_text=text,
                current=True,
                loaded_at=now,
                loaded_by=actor.label,
            )
        )
        stocked = dict(
            conn.execute(
                select(loyalty_rewards.c.code, loyalty_rewards.c.stock_left).where(
                    loyalty_rewards.c.program == program.code
                )
            ).all()
        )
        for reward in program.rewards:
            if reward.code not in stocked:
                conn.execute(
                    loyalty_rewards.insert().values(
                        program=program.code, code=reward.code, stock_left=reward.stock
                    )
                )
            elif (stocked[reward.code] is None) != (reward.stock is None):
                conn.execute(
                    update(loyalty_rewards)
                    .where(
                        loyalty_rewards.c.program == program.code,
                        loyalty_rewards.c.code == reward.code,
                    )
                    .values(stock_left=reward.stock)
                )
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="program.load",
            entity="program",
            entity_id=program.code,
            before={"version": current.version} if current is not None else None,
            after={"version": version, "name": program.name},
        )
        uow.commit()
    return version


def programs_in_force(uow: UnitOfWork) -> dict[str, LoadedProgram]:
    with uow:
        return current_programs(uow.conn)


def explain_program(uow: UnitOfWork, code: str | None = None) -> dict[str, list[str]]:
    """Each program in force (or one), as plain sentences."""
    programs = programs_in_force(uow)
    if code is not None:
        if code not in programs:
            raise NotFound(f"no program {code!r} is loaded", field="code")
        programs = {code: programs[code]}
    return {c: describe(p.program) for c, p in sorted(programs.items())}


# -- ingest --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    code: str
    brand: str
    zone: ZoneInfo


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _places(conn: Connection) -> dict[int, _Place]:
    return {
        int(lid): _Place(code, brand or "", _zone(tz))
        for lid, code, brand, tz in conn.execute(
            select(locations.c.id, locations.c.code, locations.c.brand, locations.c.timezone)
        )
    }


def _applies(lp: LoadedProgram, source: str, place: _Place | None) -> bool:
    if source in lp.partner_sources:
        return True
    if lp.everywhere:
        return True
    return place is not None and (place.code in lp.locations or place.brand in lp.brands)


@dataclass(frozen=True)
class _Bought:
    """Where and when a returned purchase happened: what decides where it counted."""

    source: str
    location_id: int | None
    occurred_at: datetime


def _returned_purchases(conn: Connection, items: list[IngestedEvent]) -> dict[int, _Bought]:
    """The purchases this batch's returns refer to, by event id (in the batch or stored).

    Returns are rare, so the stored ones cost one query per batch that holds a return.
    """
    wanted = {
        i.purchase_event_id
        for i in items
        if isinstance(i.event, Return) and i.purchase_event_id is not None
    }
    if not wanted:
        return {}
    out = {
        i.id: _Bought(i.event.source, i.location_id, i.event.occurred_at)
        for i in items
        if i.id in wanted
    }
    for part in chunked(sorted(wanted - out.keys())):
        for eid, source, location_id, occurred_at in conn.execute(
            select(events.c.id, events.c.source, events.c.location_id, events.c.occurred_at).where(
                events.c.id.in_(part)
            )
        ):
            out[int(eid)] = _Bought(source, location_id, occurred_at)
    return out


def apply_ingested(conn: Connection, ingested: list[IngestedEvent], now: datetime) -> None:
    """Earn, reverse and promote for a batch of new events, in the caller's transaction.

    Purchases earn in every program that applies where they happened; returns take back
    the returned lines' points pro rata, in the programs where their purchase counted (a
    return at the dealership must not cost a café member tier spend); goodwill imported
    from other systems is booked.
    """
    relevant = [
        item
        for item in ingested
        if item.customer_id is not None
        and (
            isinstance(item.event, (Purchase, Return))  # a tuple: checks faster than a union
            or (
                isinstance(item.event, Goodwill)
                and item.event.points > 0
                and item.event.source != OWN_SOURCE
            )
        )
    ]
    if not relevant:
        return
    programs = current_programs(conn)
    if not programs:
        return
    places = _places(conn)
    routed: dict[str, list[IngestedEvent]] = defaultdict(list)
    goodwill: list[IngestedEvent] = []
    bought = _returned_purchases(conn, relevant)
    # Where a purchase earns depends only on its source and location: decided once per pair.
    destinations: dict[tuple[str, int | None], list[str]] = {}

    def programs_at(source: str, location_id: int | None) -> list[str]:
        found = destinations.get((source, location_id))
        if found is None:
            place = places.get(location_id) if location_id is not None else None
            found = destinations[(source, location_id)] = [
                code for code, lp in programs.items() if _applies(lp, source, place)
            ]
        return found

    for item in relevant:
        event = item.event
        if isinstance(event, Goodwill):
            goodwill.append(item)
            continue
        if isinstance(event, Return):
            # A return goes where its purchase was made, not where it is brought back.
            purchase = bought.get(item.purchase_event_id or 0)
            if purchase is None:
                continue
            codes = programs_at(purchase.source, purchase.location_id)
        else:
            codes = programs_at(event.source, item.location_id)
        for code in codes:
            routed[code].append(item)
    if goodwill:
        for item, code in _route_goodwill(conn, programs, places, goodwill).items():
            routed[code].append(item)
    timeline: list[dict[str, Any]] = []
    for code, items in routed.items():
        _apply_program(conn, programs[code], items, places, now, timeline, bought)
    if timeline:
        from regulars.services.ingest import append_events  # late: ingest imports this module

        append_events(conn, timeline, now=now)


def _route_goodwill(
    conn: Connection,
    programs: dict[str, LoadedProgram],
    places: dict[int, _Place],
    items: list[IngestedEvent],
) -> dict[IngestedEvent, str]:
    """Imported goodwill goes to the program of its location, else the customer's first."""
    first: dict[int, str] = {}
    cids = sorted({i.customer_id for i in items if i.customer_id is not None})
    for part in chunked(cids):
        for cid, code in conn.execute(
            select(loyalty_members.c.customer_id, loyalty_members.c.program)
            .where(loyalty_members.c.customer_id.in_(part))
            .order_by(loyalty_members.c.enrolled_at, loyalty_members.c.id)
        ):
            if code in programs:
                first.setdefault(cid, code)
    out: dict[IngestedEvent, str] = {}
    for item in items:
        place = places.get(item.location_id) if item.location_id is not None else None
        located = [
            c
            for c, lp in sorted(programs.items())
            if place
            and not lp.everywhere
            and (place.code in lp.locations or place.brand in lp.brands)
        ]
        code = located[0] if located else first.get(item.customer_id or 0)
        if code is None:
            code = next((c for c, lp in sorted(programs.items()) if lp.everywhere), None)
        if code is not None:
            out[item] = code
    return out


@dataclass(slots=True)
class _Tally:
    """One member's qualifying months as a batch sees them (see ``domain.tiers``).

    ``months`` holds the stored buckets plus what the batch added, ``added`` only what the
    batch adds (upserted at the end), and ``amount`` the sum over the months ``first`` to
    ``last``, kept current as the batch adds to them, so that a member's window is summed
    once per batch rather than once per purchase.
    """

    member: Member
    months: dict[int, list[int]]
    by_points: bool
    added: dict[int, list[int]] = field(default_factory=dict)
    first: int = 0
    last: int = -1
    amount: int = 0

    def add(self, month: int, spend: int, points: int) -> None:
        pair = self.months.get(month)
        if pair is None:
            pair = self.months[month] = [0, 0]
        pair[0] += spend
        pair[1] += points
        delta = self.added.get(month)
        if delta is None:
            delta = self.added[month] = [0, 0]
        delta[0] += spend
        delta[1] += points
        if self.first <= month <= self.last:
            self.amount += points if self.by_points else spend

    def window(self, first: int, last: int) -> int:
        """The qualifying amount over the months ``first`` to ``last``."""
        if first != self.first or last != self.last:
            column = 1 if self.by_points else 0
            self.amount = sum(
                pair[column] for month, pair in self.months.items() if first <= month <= last
            )
            self.first, self.last = first, last
        return self.amount


class _CapHistory:
    """Points members already earned on an earlier local day or month, for late receipts.

    A member's cap counters hold only their latest day and month. A receipt that arrives
    after later ones (an offline till syncing yesterday's sales) must count against its own
    day's and month's cap, not reset the counters and give today's cap a second time: its
    day's points are read from the ledger once (late receipts are rare) and kept current as
    the batch earns more on that day.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.points: dict[tuple[int, str, int], int] = {}  # (customer, "day"/"month", key)

    def earn(
        self,
        rates: Rates,
        member: Member,
        lines: list[tuple[str, int]],
        *,
        source: str,
        local_day: date,
        zone: ZoneInfo,
        tier_index: int,
        exchange: Decimal | None = None,
    ) -> Earned:
        """``earn_purchase`` under the caps of ``local_day``, whatever day came last."""
        counters = member.earning
        day_late = rates.cap_day is not None and _before(counters.cap_day, local_day)
        month = local_day.year * 100 + local_day.month
        month_late = rates.cap_month is not None and 0 < month < counters.cap_month
        earn = partial(
            earn_purchase,
            rates,
            counters,
            lines,
            source=source,
            local_day=local_day,
            tier_index=tier_index,
            exchange=exchange,
        )
        if not (day_late or month_late):
            return earn()
        saved = (counters.cap_day, counters.cap_day_points)
        saved_month = (counters.cap_month, counters.cap_month_points)
        first = local_day.replace(day=1)
        day_slot = (member.customer_id, "day", local_day.toordinal())
        month_slot = (member.customer_id, "month", month)
        if day_late:
            counters.cap_day = local_day
            counters.cap_day_points = self._earned(
                member, day_slot, local_day, local_day + timedelta(days=1), zone
            )
        if month_late:
            counters.cap_month = month
            counters.cap_month_points = self._earned(
                member, month_slot, first, _next_month(first), zone
            )
        earned = earn()
        if day_late:
            self.points[day_slot] = counters.cap_day_points
            counters.cap_day, counters.cap_day_points = saved
        if month_late:
            self.points[month_slot] = counters.cap_month_points
            counters.cap_month, counters.cap_month_points = saved_month
        return earned

    def _earned(
        self, member: Member, key: tuple[int, str, int], since: date, until: date, zone: ZoneInfo
    ) -> int:
        known = self.points.get(key)
        if known is not None:
            return known
        c = loyalty_ledger.c
        total = self.conn.scalar(
            select(func.coalesce(func.sum(c.pending_delta + c.available_delta), 0)).where(
                c.member_id == member.id,
                c.kind == "earn",
                c.at >= datetime.combine(since, time(0), zone),
                c.at < datetime.combine(until, time(0), zone),
            )
        )
        return int(total or 0)


def _before(counted: date | None, day: date) -> bool:
    """Whether ``day`` comes before the day a cap counter holds (a late receipt)."""
    return counted is not None and day < counted


def _next_month(first: date) -> date:
    """The first of the month after ``first``'s."""
    return (first + timedelta(days=32)).replace(day=1)


def _time_order(item: IngestedEvent) -> tuple[Any, int]:
    """Oldest first, by the time as stored (UTC text on SQLite sorts as time does)."""
    return item.occurred_db, item.id


def _in_order(items: list[IngestedEvent]) -> list[IngestedEvent]:
    """The batch oldest first, each return after its purchase when both are in it.

    Two tills' clocks can put a return a minute before its purchase; taken first, it found
    no points to take back and the purchase then earned them for good.
    """
    ordered = sorted(items, key=_time_order)
    bought = {item.id: item.occurred_db for item in items if isinstance(item.event, Purchase)}
    early = [
        item
        for item in items
        if item.purchase_event_id in bought and bought[item.purchase_event_id] > item.occurred_db
    ]
    if not early:
        return ordered

    def after_purchase(item: IngestedEvent) -> tuple[Any, int, int]:
        if item.purchase_event_id in bought:
            return max(item.occurred_db, bought[item.purchase_event_id]), 1, item.id
        return item.occurred_db, 0, item.id

    return sorted(items, key=after_purchase)


def _apply_program(
    conn: Connection,
    lp: LoadedProgram,
    items: list[IngestedEvent],
    places: dict[int, _Place],
    now: datetime,
    timeline: list[dict[str, Any]],
    bought: dict[int, _Bought],
) -> None:
    program = lp.program
    rates = lp.rates
    levels = program.tiers.levels
    top = len(levels) - 1
    tier_of = {tier.code: index for index, tier in enumerate(levels)}
    # The least amount that reaches any tier above each one: below it, ``tier_for`` cannot
    # find a higher tier, and most purchases need not ask.
    reach_above = [min(t.threshold for t in levels[i + 1 :]) for i in range(top)]
    by_points = program.tiers.qualify_on == "points"
    matured_at_once = program.earning.pending_days == 0
    lot_clock = LotClock.of(program)
    # Locked (on PostgreSQL) so that concurrent batches, redemptions and jobs queue per
    # member instead of overwriting each other's counters.
    members = load_members(
        conn, lp.code, {i.customer_id for i in items if i.customer_id}, lock=True
    )
    book = Book(conn, now)
    caps = _CapHistory(conn)
    lots = _purchase_lots(conn, book, members, items)
    home = _zone(program.timezone)
    ordered = _in_order(items)
    first_event_day = ordered[0].event.occurred_at.astimezone(home).date()
    start_month, _ = window_months(program, first_event_day)
    stored = _buckets(conn, [m.id for m in members.values()], start_month)
    tallies: dict[int, _Tally] = {}  # customer id → tally
    spans: dict[int, tuple[int, int]] = {}  # month → the window of a day in it

    def tally_of(cid: int, member: Member) -> _Tally:
        tally = tallies.get(cid)
        if tally is None:
            months = {} if member.new else stored.get(member.id, {})
            tally = tallies[cid] = _Tally(member, months, by_points)
        return tally

    for item in ordered:
        event = item.event
        cid = item.customer_id
        if cid is None:
            continue
        member = members.get(cid)
        place = places.get(item.location_id) if item.location_id is not None else None
        zone = place.zone if place else home
        local_day = event.occurred_at.astimezone(zone).date()
        # Tier months are the program's own, wherever it happened: a purchase and its return
        # must land in the same month, and the nightly review counts in the program's zone.
        tier_day = local_day if zone is home else event.occurred_at.astimezone(home).date()
        if isinstance(event, Purchase):
            if not rates.earns_in(event.currency):
                continue  # a currency this program has no rate for: it earns nothing here
            if member is None:
                if program.enrolment != "auto":
                    continue
                member = new_member(cid, program, event.occurred_at, "auto")
                members[cid] = member
                book.touch(member)
                timeline.append(
                    _tier_event(
                        lp.code,
                        cid,
                        event.occurred_at,
                        "enrolled",
                        None,
                        levels[0].code,
                        f"enrolled in {program.name}",
                        f"loyalty:{lp.code}:{cid}:enrolled",
                    )
                )
            tier_index = tier_of.get(member.tier, 0)
            lines = [(line.category, line.net) for line in event.lines]
            earned = caps.earn(
                rates,
                member,
                lines,
                source=event.source,
                local_day=local_day,
                zone=zone,
                tier_index=tier_index,
                exchange=rates.exchange_of(event.currency),
            )
            points = earned.points
            if points:
                occurred = event.occurred_at
                matures, expires = lot_clock.dates(occurred)
                # credit() touches the member
                lots[item.id] = book.credit(
                    member,
                    "earn",
                    points,
                    at=occurred,
                    at_db=item.occurred_db,
                    reason=earned.reason(),
                    event_id=item.id,
                    matured=matured_at_once,
                    matures_at=matures,
                    expires_at=expires,
                    line_points=earned.line_points,
                    basis=earned.basis,
                )
                last = member.last_activity_at
                if last is None or last < occurred:
                    member.last_activity_at = occurred
                    member.activity_db = (occurred, item.occurred_db)
            else:
                book.touch(member)
            month = tier_day.year * 100 + tier_day.month  # month_key
            tally = tallies.get(cid) or tally_of(cid, member)
            tally.add(month, earned.spend, points)
            if tier_index < top:
                span = spans.get(month)
                if span is None:
                    span = spans[month] = window_months(program, tier_day)
                amount = tally.window(*span)
                target = tier_for(levels, amount) if amount >= reach_above[tier_index] else 0
                if target > tier_index:
                    timeline.append(
                        _tier_event(
                            lp.code,
                            cid,
                            event.occurred_at,
                            "up",
                            member.tier,
                            levels[target].code,
                            f"qualified for {levels[target].name}",
                            f"loyalty:{lp.code}:{cid}:up:{levels[target].code}:{item.id}",
                        )
                    )
                    member.tier = levels[target].code
                    member.tier_since = event.occurred_at
        elif isinstance(event, Return) and item.settlement is not None:
            if member is None:
                continue
            lot = lots.get(item.purchase_event_id or 0)
            purchase = bought[item.purchase_event_id or 0]
            if lot is None and member.enrolled_at > purchase.occurred_at:
                continue  # bought before joining: it never counted here
            if not rates.earns_in(item.settlement.currency):
                continue  # bought in a currency this program never counted
            returned = [(line.category, line.net) for line in item.settlement.lines]
            spend_back = sum(net for category, net in returned if category not in rates.excluded)
            exchange_back = rates.exchange_of(item.settlement.currency)
            if exchange_back is not None:
                spend_back = in_program_money(spend_back, exchange_back)
            points_back = 0
            if lot is not None:
                weight = return_weight(rates, returned, event.source in lp.partner_sources)
                take = reversal(lot.line_points, lot.basis, lot.reversed_basis, weight)
                completes = lot.reversed_basis < lot.basis <= lot.reversed_basis + weight
                lot.reversed_basis += weight
                if completes:
                    take += lot.bonus_points
                reason = f"return {event.external_id}: {take} points of purchase back"
                got = book.take_from_lot(
                    lot,
                    "reverse",
                    take,
                    at=event.occurred_at,
                    reason=reason,
                    event_id=item.id,
                    basis=weight,
                )
                if got < take:
                    got += book.spend(
                        member,
                        "reverse",
                        take - got,
                        at=event.occurred_at,
                        reason=f"{reason} (from other points; the purchase's were spent)",
                        event_id=item.id,
                    )
                points_back = got
            # Back out of the month the purchase counted in, whenever it is returned.
            month = month_key(purchase.occurred_at.astimezone(home).date())
            tally_of(cid, member).add(month, -spend_back, -points_back)
        elif isinstance(event, Goodwill):
            if member is None:
                if program.enrolment != "auto":
                    continue  # as with granted goodwill: nobody joins an opt-in program so
                member = new_member(cid, program, event.occurred_at, "auto")
                members[cid] = member
            _, expires = lot_dates(program, event.occurred_at)
            book.credit(
                member,
                "goodwill",
                event.points,
                at=event.occurred_at,
                at_db=item.occurred_db,
                reason=f"goodwill: {event.reason}",
                event_id=item.id,
                matured=True,
                expires_at=expires,
                counts_as_earned=False,
            )
    book.flush()
    _write_buckets(
        conn,
        [
            (tally.member.id, month, spend, points)
            for tally in tallies.values()
            for month, (spend, points) in tally.added.items()
            if spend or points
        ],
    )


def _tier_event(
    program: str,
    customer_id: int,
    at: datetime,
    change: str,
    tier_from: str | None,
    tier_to: str | None,
    detail: str,
    external_id: str,
) -> dict[str, Any]:
    return {
        "type": "tier",
        "source": OWN_SOURCE,
        "external_id": external_id,
        "occurred_at": at,  # validated as it is: no text to format and parse back
        "customer_id": customer_id,
        "change": change,
        "tier_from": tier_from,
        "tier_to": tier_to,
        "program": program,
        "detail": detail,
    }


def _purchase_lots(
    conn: Connection, book: Book, members: dict[int, Member], items: list[IngestedEvent]
) -> dict[int, BookLot]:
    """The earn lots of the purchases this batch's returns refer to, with what came back."""
    wanted = sorted(
        {
            i.purchase_event_id
            for i in items
            if isinstance(i.event, Return) and i.purchase_event_id is not None
        }
    )
    if not wanted:
        return {}
    c = loyalty_ledger.c
    by_member = {m.id: m for m in members.values()}
    out: dict[int, BookLot] = {}
    for part in chunked(wanted):
        rows = conn.execute(
            select(
                c.id,
                c.member_id,
                c.event_id,
                c.lot_remaining,
                c.matured,
                c.expires_at,
                c.at,
                c.line_points,
                c.basis,
                c.pending_delta + c.available_delta,
            ).where(c.kind == "earn", c.event_id.in_(part))
        )
        for lid, mid, eid, remaining, matured, expires, at, line_points, basis, pts in rows:
            member = by_member.get(mid)
            if member is None:
                continue
            lot = BookLot(
                member,
                int(remaining),
                bool(matured),
                expires,
                at,
                line_points=int(line_points),
                bonus_points=int(pts) - int(line_points),
                basis=int(basis),
                id=int(lid),
            )
            out[int(eid)] = lot
    if out:
        # Earlier reversals of these lots, found through their members (returns are rare, so
        # the ledger carries no index on lot_id to slow every earn down).
        wanted_lots = {lot.id for lot in out.values()}
        member_ids = sorted({lot.member.id for lot in out.values()})
        back: dict[int, int] = {}
        for part in chunked(member_ids):
            for lot_id, total in conn.execute(
                select(c.lot_id, func.sum(c.basis))
                .where(c.member_id.in_(part), c.kind == "reverse")
                .group_by(c.lot_id)
            ):
                if lot_id in wanted_lots:
                    back[int(lot_id)] = int(total or 0)
        for lot in out.values():
            lot.reversed_basis = back.get(lot.id, 0)
        book.lots.extend(out.values())
    return out


def _buckets(
    conn: Connection, member_ids: list[int], first_month: int
) -> dict[int, dict[int, list[int]]]:
    out: dict[int, dict[int, list[int]]] = {}
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    for part in chunked(sorted(member_ids)):
        rows = conn.exec_driver_sql(
            _SELECT_BUCKETS.format(ids=", ".join([mark] * len(part)), m=mark),
            (*part, first_month),
        ).fetchall()
        for mid, month, spend, points in rows:
            out.setdefault(int(mid), {})[int(month)] = [int(spend), int(points)]
    return out


_SELECT_BUCKETS = (
    "SELECT member_id, month, spend, points FROM loyalty_qualifying "
    "WHERE member_id IN ({ids}) AND month >= {m}"
)
_UPSERT_BUCKET = (
    "INSERT INTO loyalty_qualifying (member_id, month, spend, points) VALUES ({m}) "
    "ON CONFLICT (member_id, month) DO UPDATE SET "
    "spend = loyalty_qualifying.spend + excluded.spend, "
    "points = loyalty_qualifying.points + excluded.points"
)


def _write_buckets(conn: Connection, rows: list[tuple[int, int, int, int]]) -> None:
    if not rows:
        return
    marks = "?, ?, ?, ?" if conn.dialect.name == "sqlite" else "%s, %s, %s, %s"
    conn.exec_driver_sql(_UPSERT_BUCKET.format(m=marks), rows)


def qualifying_amount(conn: Connection, program: Program, member_id: int, day: date) -> int:
    """Spend or points earned that count towards the tier on ``day``."""
    first, last = window_months(program, day)
    q = loyalty_qualifying.c
    column = q.points if program.tiers.qualify_on == "points" else q.spend
    total = conn.scalar(
        select(func.coalesce(func.sum(column), 0)).where(
            q.member_id == member_id, q.month >= first, q.month <= last
        )
    )
    return int(total or 0)


# -- membership ----------------------------------------------------------------------


def _program(conn: Connection, code: str) -> LoadedProgram:
    programs = current_programs(conn)
    if code not in programs:
        raise InvalidInput([FieldProblem("program", f"no program {code!r} is loaded")])
    return programs[code]


def enrol(uow: UnitOfWork, actor: Actor, customer_id: int, program: str, *, now: datetime) -> bool:
    """Opt a customer in; True when newly enrolled, False when already a member."""
    require(actor, "customers:write")
    with uow:
        access_live_customer(uow.conn, actor, customer_id)
        enrolled = _opt_in(uow.conn, actor, program, {customer_id: now}, now)
        uow.commit()
    return enrolled == 1


def enrol_many(
    uow: UnitOfWork,
    actor: Actor,
    program: str,
    sign_ups: Sequence[tuple[int, datetime]],
    *,
    now: datetime,
) -> int:
    """Opt many customers in at once, each from when they signed up; returns how many were
    new members (existing members are left as they are).

    For a pile of sign-up forms or a migration from another system: the same rows, timeline
    events and audit entries as ``enrol`` one by one, written set-based. A customer who does
    not exist or is outside the actor's locations refuses the whole batch, naming them.
    """
    require(actor, "customers:write")
    wanted: dict[int, datetime] = {}
    for customer_id, signed_up in sign_ups:
        wanted.setdefault(customer_id, signed_up)
    with uow:
        conn = uow.conn
        live = {
            cid
            for cid, ref in lookups.customers_by_id(conn, wanted).items()
            if ref.id == cid and ref.status != "erased"  # not merged away, not erased
        }
        missing = sorted(set(wanted) - live) + sorted(unreachable_customers(conn, actor, live))
        if missing:
            shown = ", ".join(str(cid) for cid in missing[:10])
            raise InvalidInput([FieldProblem("customer_id", f"no such customer: {shown}")])
        # A form dated ahead (2062 typed for 2026) would make a member who joins in decades:
        # counted nowhere, and their purchases until then treated as made before joining.
        ahead = sorted(cid for cid, signed_up in wanted.items() if signed_up > now)
        if ahead:
            shown = ", ".join(str(cid) for cid in ahead[:10])
            raise InvalidInput(
                [FieldProblem("signed_up_at", f"after now, for customer(s) {shown}")]
            )
        enrolled = _opt_in(conn, actor, program, wanted, now)
        uow.commit()
    return enrolled


def _opt_in(
    conn: Connection, actor: Actor, program: str, wanted: dict[int, datetime], now: datetime
) -> int:
    """Enrol the customers who are not members yet, as of their sign-up times; set-based.

    Two opt-ins of one customer at once (a double tap, two tills) on PostgreSQL: the second
    waits on the membership's unique key and fails there; it is then told what is now true,
    that the customer is a member, instead of a 500.
    """
    for attempt in (1, 2):
        savepoint = conn.begin_nested()
        try:
            enrolled = _opt_in_once(conn, actor, program, wanted, now)
        except IntegrityError:
            savepoint.rollback()
            if attempt == 2:
                raise
            continue
        savepoint.commit()
        return enrolled
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _opt_in_once(
    conn: Connection, actor: Actor, program: str, wanted: dict[int, datetime], now: datetime
) -> int:
    lp = _program(conn, program)
    members = load_members(conn, program, wanted, lock=True)
    book = Book(conn, now, actor.label)
    fresh = [
        new_member(cid, lp.program, signed_up, "opt_in")
        for cid, signed_up in wanted.items()
        if cid not in members
    ]
    if not fresh:
        return 0
    for member in fresh:
        book.touch(member)
    book.flush()
    for part in chunked([m.id for m in fresh]):
        conn.execute(
            update(loyalty_members)
            .where(loyalty_members.c.id.in_(part))
            .values(enrolled_how="opt_in")
        )
    from regulars.services.ingest import append_events  # late: ingest imports this module

    append_events(
        conn,
        [
            _tier_event(
                program,
                m.customer_id,
                m.enrolled_at,
                "enrolled",
                None,
                m.tier,
                f"opted in to {lp.program.name}",
                f"loyalty:{program}:{m.customer_id}:enrolled",
            )
            for m in fresh
        ],
        now=now,
    )
    audit.record_many(
        conn,
        [
            {
                "at": now,
                "actor": actor.label,
                "action": "loyalty.enrol",
                "entity": "customer",
                "entity_id": m.customer_id,
                "after": {"program": program, "enrolled_at": m.enrolled_at},
            }
            for m in fresh
        ],
    )
    return len(fresh)


def choose_double_points_day(
    uow: UnitOfWork, actor: Actor, customer_id: int, program: str, day: date, *, now: datetime
) -> None:
    """The member picks their double-points day; once per period, never in the past.

    Choosing the same day again is a no-op (a retried request). A day still to come cannot
    be swapped for another, else picking next month's day and then this month's again would
    give this month two; once it has passed, the next period's day can be chosen.

    "Today" is the member's own, where they live (the day is matched against the local day
    of each purchase): a Brooklyn member may still pick today at 20:00, when it is already
    tomorrow at the Lisbon program's home.
    """
    require(actor, "customers:write")
    with uow:
        conn = uow.conn
        home = access_live_customer(conn, actor, customer_id)
        lp = _program(conn, program)
        rule = lp.program.earning.double_points_day
        if rule is None:
            raise InvalidInput([FieldProblem("program", "this program has no double-points day")])
        lives_in = conn.scalar(select(locations.c.timezone).where(locations.c.id == home))
        today = now.astimezone(_zone(str(lives_in or lp.program.timezone))).date()
        if day < today:
            raise InvalidInput([FieldProblem("day", "pick today or a day to come")])
        member = load_members(conn, program, [customer_id], lock=True).get(customer_id)
        if member is None:
            raise InvalidInput([FieldProblem("customer_id", "not a member of this program")])
        chosen = member.earning.double_day
        if chosen == day:
            return
        if chosen is not None and chosen >= today:
            raise Conflict(
                f"the double-points day is already {chosen.isoformat()}, still to come",
                field="day",
            )
        if chosen is not None and _period(rule.period, chosen) == _period(rule.period, day):
            raise Conflict(
                f"this {rule.period}'s double-points day was {chosen.isoformat()}",
                field="day",
            )
        conn.execute(
            update(loyalty_members).where(loyalty_members.c.id == member.id).values(double_day=day)
        )
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="loyalty.double_day",
            entity="customer",
            entity_id=customer_id,
            before={"double_day": chosen},
            after={"double_day": day},
        )
        uow.commit()


def _period(period: str, day: date) -> tuple[int, int]:
    if period == "week":
        iso = day.isocalendar()
        return iso[0], iso[1]
    if period == "quarter":
        return day.year, (day.month - 1) // 3
    return day.year, day.month


# -- status and census -----------------------------------------------------------------


def member_status(
    uow: UnitOfWork, actor: Actor, customer_id: int, *, now: datetime
) -> list[dict[str, Any]]:
    """What a member should never have to guess, per program they belong to."""
    require(actor, "loyalty:read")
    with uow:
        conn = uow.conn
        access_customer(conn, actor, customer_id)
        programs = current_programs(conn)
        out = []
        rows = (
            conn.execute(
                select(loyalty_members).where(loyalty_members.c.customer_id == customer_id)
            )
            .mappings()
            .all()
        )
        for row in rows:
            lp = programs.get(row["program"])
            if lp is None:
                continue
            out.append(_status_of(conn, lp.program, dict(row), now))
        return out


def _status_of(
    conn: Connection, program: Program, row: dict[str, Any], now: datetime
) -> dict[str, Any]:
    c = loyalty_ledger.c
    today = now.astimezone(_zone(program.timezone)).date()
    # The nightly jobs book maturity and expiry; the member sees today's truth before they
    # run: pending lots whose return window has passed are available already, and points
    # past their expiry date (or all of an idle member's, under inactivity expiry) are gone,
    # as redemption would find them.
    ripe = and_(c.matured.is_(False), c.matures_at <= now)
    past = c.expires_at <= now
    lapsed, due, due_lapsed = conn.execute(
        select(
            func.coalesce(func.sum(case((and_(c.matured.is_(True), past), c.lot_remaining))), 0),
            func.coalesce(
                func.sum(case((and_(ripe, or_(c.expires_at.is_(None), ~past)), c.lot_remaining))),
                0,
            ),
            func.coalesce(func.sum(case((and_(ripe, past), c.lot_remaining))), 0),
        ).where(c.member_id == row["id"], c.lot_remaining > 0)
    ).one()
    available = int(row["available"]) - int(lapsed) + int(due)
    pending = int(row["pending"]) - int(due) - int(due_lapsed)
    if program.expiry.mode == "inactivity":  # an idle member's lots old enough are gone
        available -= sum(
            p
            for when, p, spendable in _idle_lots(conn, program, row, now)
            if spendable and when <= now
        )
    next_release = conn.execute(
        select(c.matures_at, c.lot_remaining)
        .where(
            c.member_id == row["id"], c.matured.is_(False), c.matures_at > now, c.lot_remaining > 0
        )
        .order_by(c.matures_at)
        .limit(1)
    ).first()
    # Dates the member reads are the program's local days, as the expiry warning names them
    # (a lot earned just after midnight in Lisbon expires just before midnight in UTC).
    zone = _zone(program.timezone)
    expiring = _by_local_day(_expiring(conn, program, row, now), zone)
    tier_index = program.tier_index(row["tier"])
    tier = program.tiers.levels[tier_index]
    amount = qualifying_amount(conn, program, int(row["id"]), today)
    prog = progress(
        program,
        tier_index,
        amount,
        window_end(program, today) if program.tiers.window == "calendar_year" else None,
    )
    active_since = now - timedelta(days=program.active_days)
    last = row["last_activity_at"]
    return {
        "program": program.code,
        "program_name": program.name,
        "enrolled_at": row["enrolled_at"],
        "active": last is not None and last >= active_since,
        "available_points": available,
        "available_value": program.money_of(available),
        "pending_points": pending,
        "pending_until": next_release.matures_at.astimezone(zone) if next_release else None,
        "currency": program.currency,
        "tier": {
            "code": tier.code,
            "name": tier.name,
            "benefits": tier.benefits,
            "since": row["tier_since"],
            "accrual_bonus_percent": tier.accrual_bonus_percent,
        },
        "qualifying": {"on": program.tiers.qualify_on, "amount": amount},
        "next_tier": (
            {
                "code": prog.next_tier.code,
                "name": prog.next_tier.name,
                "threshold": prog.next_tier.threshold,
                "needed": prog.needed,
                "percent": prog.percent,
                "benefits": prog.next_tier.benefits,
                "accrual_bonus_percent": prog.next_tier.accrual_bonus_percent,
            }
            if prog.next_tier
            else None
        ),
        "progress": prog.words,
        "expiring": expiring,
        "double_points_day": row["double_day"],
    }


#: How many expiry days the status names (the soonest ones).
_EXPIRY_DAYS_SHOWN = 5


def _by_local_day(items: list[dict[str, Any]], zone: ZoneInfo) -> list[dict[str, Any]]:
    """One line per local day, the day's points summed, at the first instant that day.

    Lots expire at the instant they were earned, a year on: two coffees on one morning
    would otherwise read as two lines with the same date, as if the points went twice.
    """
    days: dict[date, dict[str, Any]] = {}
    for item in items:
        on = item["on"].astimezone(zone)
        day = days.get(on.date())
        if day is None:
            days[on.date()] = item | {"on": on}
        else:
            day["points"] += item["points"]
    return list(days.values())[:_EXPIRY_DAYS_SHOWN]


def _expiring(
    conn: Connection, program: Program, row: dict[str, Any], now: datetime
) -> list[dict[str, Any]]:
    """Points that will expire, soonest first (by earn date, or all at once when inactive)."""
    c = loyalty_ledger.c
    if program.expiry.mode == "earn_date":
        rows = conn.execute(
            select(c.expires_at, func.sum(c.lot_remaining))
            .where(c.member_id == row["id"], c.lot_remaining > 0, c.expires_at > now)
            .group_by(c.expires_at)
            .order_by(c.expires_at)
        ).all()
        return [{"points": int(p), "on": at} for at, p in rows if p]
    if program.expiry.mode == "inactivity":
        due: dict[datetime, int] = defaultdict(int)
        for when, points, _ in _idle_lots(conn, program, row, now):
            if when > now:
                due[when] += points
        return [
            {"points": points, "on": when, "unless": "you earn or redeem before then"}
            for when, points in sorted(due.items())
        ]
    return []


def _idle_lots(
    conn: Connection, program: Program, row: dict[str, Any], now: datetime
) -> list[tuple[datetime, int, bool]]:
    """Under ``inactivity`` expiry, each lot with points left: when it goes unless the member
    earns or redeems first, its points, and whether they are spendable now. A lot goes when
    the member has been idle ``expiry.months`` and it is that old itself, as the expiry job
    expires it (``loyalty_book.idle_lapsed``)."""
    c = loyalty_ledger.c
    idle_until = _idle_until(program, row)
    rows = conn.execute(
        select(c.at, c.lot_remaining, or_(c.matured.is_(True), c.matures_at <= now)).where(
            c.member_id == row["id"], c.lot_remaining > 0
        )
    )
    months = program.expiry.months
    return [
        (max(idle_until, add_months(at, months)), int(points), bool(spendable))
        for at, points, spendable in rows
    ]


def _idle_until(program: Program, row: dict[str, Any]) -> datetime:
    """When an inactive member's points expire (never, but for ``inactivity`` expiry); a
    member who never earned or redeemed counts from enrolment, as the expiry job does."""
    if program.expiry.mode != "inactivity":
        return datetime.max.replace(tzinfo=UTC)
    since: datetime = row["last_activity_at"] or row["enrolled_at"]
    return add_months(since, program.expiry.months)


def census(
    uow: UnitOfWork, actor: Actor, *, now: datetime, location_id: int | None = None
) -> list[dict[str, Any]]:
    """Enrolled versus active members per program, tier mix and outstanding liability.

    ``location_id`` narrows it to that location's customers (a dashboard showing one café
    must not count the whole chain's members); the actor's own scope always applies.
    """
    require(actor, "loyalty:read")
    with uow:
        conn = uow.conn
        out = []
        scope = customers_in_scope(actor)
        if location_id is not None:
            scope = and_(scope, customers.c.home_location_id == location_id)
        for code, lp in sorted(current_programs(conn).items()):
            program = lp.program
            since = now - timedelta(days=program.active_days)
            m = loyalty_members.c
            base = (
                select(
                    m.tier,
                    func.count(),
                    func.sum(m.available),
                    func.sum(m.pending),
                    func.sum(case((m.last_activity_at >= since, 1), else_=0)),
                )
                .select_from(loyalty_members.join(customers, customers.c.id == m.customer_id))
                .where(m.program == code, scope)
                .group_by(m.tier)
            )
            tiers: dict[str, int] = {}
            enrolled = active = available = pending = 0
            for tier, count, avail, pend, act in conn.execute(base):
                tiers[tier] = int(count)
                enrolled += int(count)
                active += int(act or 0)
                available += int(avail or 0)
                pending += int(pend or 0)
            out.append(
                {
                    "program": code,
                    "name": program.name,
                    "enrolled": enrolled,
                    "active": active,
                    "active_days": program.active_days,
                    "active_share_percent": active * 100 // enrolled if enrolled else 0,
                    "tiers": {t.code: tiers.get(t.code, 0) for t in program.tiers.levels},
                    "available_points": available,
                    "pending_points": pending,
                    "liability": program.money_of(available + pending),
                    "currency": program.currency,
                }
            )
        return out


def rewards_catalogue(uow: UnitOfWork, program: str | None = None) -> list[dict[str, Any]]:
    """The rewards in force, with stock left."""
    with uow:
        conn = uow.conn
        stock = {
            (p, c): s
            for p, c, s in conn.execute(
                select(
                    loyalty_rewards.c.program, loyalty_rewards.c.code, loyalty_rewards.c.stock_left
                )
            )
        }
        out = []
        for code, lp in sorted(current_programs(conn).items()):
            if program is not None and code != program:
                continue
            for reward in lp.program.rewards:
                out.append(
                    {
                        "program": code,
                        "code": reward.code,
                        "name": reward.name,
                        "points": reward.points,
                        "value": reward.value,
                        "currency": lp.program.currency,
                        "min_tier": reward.min_tier,
                        "stock_left": stock.get((code, reward.code), reward.stock),
                        "per_member_limit": reward.per_member_limit,
                        "description": reward.description,
                    }
                )
        return out


def adjust_points(
    uow: UnitOfWork,
    actor: Actor,
    customer_id: int,
    program: str,
    points: int,
    reason: str,
    *,
    now: datetime,
) -> dict[str, Any]:
    """A manager corrects a balance (a lost receipt, a double booking): audited, with a reason.

    Positive points become a new lot (expiring like earned points); negative ones are taken
    from the available points, nearest expiry first, and never below zero.
    """
    require(actor, "loyalty:write")
    require_manager(actor)
    reason = reason.strip()
    problems = []
    if points == 0 or abs(points) > 10_000_000:
        problems.append(FieldProblem("points", "give a non-zero number of points"))
    if not reason or len(reason) > 500:
        problems.append(FieldProblem("reason", "say in 1 to 500 characters why"))
    if problems:
        raise InvalidInput(problems)
    with uow:
        conn = uow.conn
        access_live_customer(conn, actor, customer_id)
        lp = _program(conn, program)
        member = load_members(conn, program, [customer_id], lock=True).get(customer_id)
        if member is None:
            raise InvalidInput([FieldProblem("customer_id", f"not a member of {lp.program.name}")])
        book = Book(conn, now, actor.label)
        settle(book, lp.program, member, now)  # the balance the status page shows
        before = member.available
        if points > 0:
            _, expires = lot_dates(lp.program, now)
            book.credit(
                member,
                "adjust",
                points,
                at=now,
                reason=f"adjustment: {reason}",
                event_id=None,
                matured=True,
                expires_at=expires,
                counts_as_earned=False,
            )
        else:
            if member.available < -points:
                raise InvalidInput(
                    [FieldProblem("points", f"only {member.available} points are available")]
                )
            book.spend(
                member, "adjust", -points, at=now, reason=f"adjustment: {reason}", event_id=None
            )
        book.flush()
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="loyalty.adjust",
            entity="customer",
            entity_id=customer_id,
            before={"available": before},
            after={
                "available": member.available,
                "points": points,
                "reason": reason,
                "program": program,
            },
        )
        uow.commit()
    return {"program": program, "points": points, "available_points": member.available}


def merge_memberships(conn: Connection, keep_id: int, duplicate_id: int) -> None:
    """Fold a duplicate customer's memberships into the kept customer's, in the caller's
    transaction (``merge_customers`` calls this): points, lots, history and redemptions move
    over; where both were members the balances add up and the higher tier is kept.
    """
    m = loyalty_members.c
    # Locked, in id order as every writer locks members: a redemption or a purchase booked
    # on either membership meanwhile is folded in, not left on a row this merge deletes.
    both = conn.execute(
        select(loyalty_members)
        .where(m.customer_id.in_([keep_id, duplicate_id]))
        .order_by(m.id)
        .with_for_update()
    ).all()
    mine = {row.program: row for row in both if row.customer_id == keep_id}
    for dup in [row for row in both if row.customer_id == duplicate_id]:
        kept = mine.get(dup.program)
        if kept is None:
            conn.execute(update(loyalty_members).where(m.id == dup.id).values(customer_id=keep_id))
            continue
        programs = current_programs(conn)
        lp = programs.get(dup.program)
        better = kept.tier
        if lp is not None and lp.program.tier_index(dup.tier) > lp.program.tier_index(kept.tier):
            better = dup.tier
        for table in (loyalty_ledger, loyalty_redemptions):
            conn.execute(update(table).where(table.c.member_id == dup.id).values(member_id=kept.id))
        q = loyalty_qualifying.c
        buckets = conn.execute(
            select(q.month, q.spend, q.points).where(q.member_id == dup.id)
        ).all()
        conn.execute(delete(loyalty_qualifying).where(q.member_id == dup.id))
        _write_buckets(conn, [(kept.id, month, spend, points) for month, spend, points in buckets])
        conn.execute(
            update(loyalty_members)
            .where(m.id == kept.id)
            .values(
                available=m.available + dup.available,
                pending=m.pending + dup.pending,
                lifetime_earned=m.lifetime_earned + dup.lifetime_earned,
                purchase_count=m.purchase_count + dup.purchase_count,
                welcome_given=kept.welcome_given or dup.welcome_given,
                tier=better,
                enrolled_at=min(kept.enrolled_at, dup.enrolled_at),
                last_activity_at=max(
                    (t for t in (kept.last_activity_at, dup.last_activity_at) if t is not None),
                    default=None,
                ),
            )
        )
        conn.execute(delete(loyalty_members).where(m.id == dup.id))
    conn.execute(
        update(loyalty_goodwill)
        .where(loyalty_goodwill.c.customer_id == duplicate_id)
        .values(customer_id=keep_id)
    )
    conn.execute(
        update(loyalty_redemptions)
        .where(loyalty_redemptions.c.customer_id == duplicate_id)
        .values(customer_id=keep_id)
    )


__all__ = [
    "OWN_SOURCE",
    "adjust_points",
    "apply_ingested",
    "census",
    "check_program",
    "choose_double_points_day",
    "enrol",
    "explain_program",
    "load_program_file",
    "member_status",
    "merge_memberships",
    "programs_in_force",
    "qualifying_amount",
    "rewards_catalogue",
]
