"""The ledger service: the only code that writes points, for every way points move.

Ingest (earning, returns, goodwill events), redemption, the expiry and maturity jobs and
manual adjustments all book through ``Book``: it keeps the batch's members and lots in
memory, and on ``flush`` writes the ledger entries, the lots' remaining points and the
members' cached balances set-based (one ``executemany`` each), in the caller's transaction.
Because every movement changes the cache by exactly the amount it writes to the ledger,
``available`` and ``pending`` always equal the ledger sums.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from pydantic_core import TzInfo
from sqlalchemy import Connection, select

from regulars.domain.earning import MemberEarning, Rates
from regulars.domain.ledger import Kind, Lot, add_months, allocate
from regulars.domain.program import Program, load_program
from regulars.store.bulk import db_time, insert_rows, update_rows, utc_text
from regulars.store.ids import allocate_ids
from regulars.store.lookups import chunked
from regulars.store.loyalty_tables import loyalty_ledger, loyalty_members, loyalty_programs

# -- programs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedProgram:
    """A current program with what the hot paths need pre-computed."""

    code: str
    version: int
    program: Program
    rates: Rates
    locations: frozenset[str]
    brands: frozenset[str]
    partner_sources: frozenset[str]

    @property
    def everywhere(self) -> bool:
        return not self.locations and not self.brands


@lru_cache(maxsize=64)
def _compiled(code: str, version: int, text: str) -> LoadedProgram:
    program = load_program(text, in_force=True)
    return LoadedProgram(
        code=code,
        version=version,
        program=program,
        rates=Rates.of(program),
        locations=frozenset(program.applies_to.locations),
        brands=frozenset(program.applies_to.brands),
        partner_sources=frozenset(p.source for p in program.earning.partners),
    )


def current_programs(conn: Connection) -> dict[str, LoadedProgram]:
    """The programs in force, by code (parsed once per version, then cached)."""
    rows = conn.execute(
        select(
            loyalty_programs.c.code, loyalty_programs.c.version, loyalty_programs.c.source_text
        ).where(loyalty_programs.c.current.is_(True))
    )
    return {code: _compiled(code, version, text) for code, version, text in rows}


# -- members -----------------------------------------------------------------------------


@dataclass
class Member:
    """One membership as loaded for a command; balances change only through ``Book``."""

    id: int
    customer_id: int
    program: str
    tier: str
    tier_since: datetime
    reviews_since_grace: int | None
    last_activity_at: datetime | None
    available: int
    pending: int
    lifetime_earned: int
    enrolled_at: datetime
    earning: MemberEarning = field(default_factory=MemberEarning)
    new: bool = False
    lots_loaded: bool = False
    d_available: int = 0
    d_pending: int = 0
    d_earned: int = 0
    #: (tier, tier_since, reviews_since_grace, double_day) as stored: ``flush`` writes them
    #: only when one of them changed (most batches only move points and counters).
    stored: tuple[object, ...] | None = None
    #: ``last_activity_at`` beside its stored form when that is known already (read from
    #: SQLite, or the ingested event's text): ``flush`` reuses the text only while
    #: ``last_activity_at`` is still that very object, so a later change cannot go stale.
    activity_db: tuple[datetime, object] | None = None


_MEMBER_COLUMNS = (
    loyalty_members.c.id,
    loyalty_members.c.customer_id,
    loyalty_members.c.program,
    loyalty_members.c.tier,
    loyalty_members.c.tier_since,
    loyalty_members.c.reviews_since_grace,
    loyalty_members.c.last_activity_at,
    loyalty_members.c.available,
    loyalty_members.c.pending,
    loyalty_members.c.lifetime_earned,
    loyalty_members.c.enrolled_at,
    loyalty_members.c.purchase_count,
    loyalty_members.c.welcome_given,
    loyalty_members.c.double_day,
    loyalty_members.c.cap_day,
    loyalty_members.c.cap_day_points,
    loyalty_members.c.cap_month,
    loyalty_members.c.cap_month_points,
)


def _member_of(row: Sequence[object]) -> Member:
    (mid, cid, program, tier, since, grace, activity, available, pending, earned, enrolled) = row[
        :11
    ]
    count, welcome, double, cap_day, cap_day_pts, cap_month, cap_month_pts = row[11:]
    tier = str(tier)
    return Member(
        id=int(mid),  # type: ignore[call-overload]
        customer_id=int(cid),  # type: ignore[call-overload]
        program=str(program),
        tier=tier,
        tier_since=since,  # type: ignore[arg-type]
        reviews_since_grace=grace,  # type: ignore[arg-type]
        last_activity_at=activity,  # type: ignore[arg-type]
        available=int(available),  # type: ignore[call-overload]
        pending=int(pending),  # type: ignore[call-overload]
        lifetime_earned=int(earned),  # type: ignore[call-overload]
        enrolled_at=enrolled,  # type: ignore[arg-type]
        earning=MemberEarning(
            purchase_count=int(count),  # type: ignore[call-overload]
            welcome_given=bool(welcome),
            double_day=double,  # type: ignore[arg-type]
            cap_day=cap_day,  # type: ignore[arg-type]
            cap_day_points=int(cap_day_pts),  # type: ignore[call-overload]
            cap_month=int(cap_month),  # type: ignore[call-overload]
            cap_month_points=int(cap_month_pts),  # type: ignore[call-overload]
        ),
        stored=(tier, since, grace, double),
    )


_MEMBERS_SQL = (
    "SELECT "  # noqa: S608 - names come from our own Table, values are bound
    + ", ".join(column.name for column in _MEMBER_COLUMNS)
    + " FROM loyalty_members WHERE program = ? AND customer_id IN ({marks})"
)


def _stored_time(text: str | None) -> datetime | None:
    """A ``UtcDateTime`` read back from SQLite, as the column type reads it."""
    if text is None:
        return None
    if len(text) == 26:  # the usual naive UTC text: reading it as UTC is the fast way
        return datetime.fromisoformat(text + "+00:00")
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _is_utc_text(text: object) -> bool:
    """Whether stored text is exactly what ``utc_text`` writes (so it can be written back)."""
    return isinstance(text, str) and len(text) == 26 and text[10] == " "


def _stored_date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _sqlite_member(raw: Sequence[Any]) -> Member:
    """A raw SQLite row of ``_MEMBER_COLUMNS`` as a member, with the values SQLAlchemy would
    give, in one step (ingest loads a few thousand members per batch). The driver's ints
    and texts need no conversion; times and dates are read as the column types read them.
    """
    (mid, cid, program, tier, since, grace, activity, available, pending, earned, enrolled) = raw[
        :11
    ]
    count, welcome, double, cap_day, cap_day_pts, cap_month, cap_month_pts = raw[11:]
    tier_since = _stored_time(since)
    last_activity = _stored_time(activity)
    double_day = _stored_date(double)
    member = Member(
        id=mid,
        customer_id=cid,
        program=program,
        tier=tier,
        tier_since=tier_since,  # type: ignore[arg-type]  # NOT NULL
        reviews_since_grace=grace,
        last_activity_at=last_activity,
        available=available,
        pending=pending,
        lifetime_earned=earned,
        enrolled_at=_stored_time(enrolled),  # type: ignore[arg-type]  # NOT NULL
        earning=MemberEarning(
            count,
            bool(welcome),
            double_day,
            _stored_date(cap_day),
            cap_day_pts,
            cap_month,
            cap_month_pts,
        ),
        stored=(tier, tier_since, grace, double_day),
    )
    if last_activity is not None and _is_utc_text(activity):
        member.activity_db = (last_activity, activity)
    return member


def load_members(
    conn: Connection, program: str, customer_ids: Iterable[int], *, lock: bool = False
) -> dict[int, Member]:
    """Memberships of these customers in one program, by customer id (set-based).

    ``lock`` takes the rows ``FOR UPDATE`` on PostgreSQL so that two redemptions against one
    balance queue instead of both spending it; SQLite already serialises writers.
    """
    found: dict[int, Member] = {}
    if conn.dialect.name == "sqlite":
        # Straight through the driver: SQLAlchemy's rows and type processing cost more than
        # the query itself on ingest's hot path.
        for part in chunked(sorted(set(customer_ids))):
            marks = ", ".join("?" * len(part))
            rows = conn.exec_driver_sql(_MEMBERS_SQL.format(marks=marks), (program, *part))
            for raw in rows.fetchall():
                member = _sqlite_member(raw)
                found[member.customer_id] = member
        return found
    for part in chunked(sorted(set(customer_ids))):
        query = select(*_MEMBER_COLUMNS).where(
            loyalty_members.c.program == program, loyalty_members.c.customer_id.in_(part)
        )
        if lock and conn.dialect.name == "postgresql":
            query = query.order_by(loyalty_members.c.id).with_for_update()
        for row in conn.execute(query):
            member = _member_of(tuple(row))
            found[member.customer_id] = member
    return found


def members_of_program(
    conn: Connection, program: str, member_ids: Sequence[int] | None = None, *, lock: bool = False
) -> list[Member]:
    """Members of a program (or those of them with these membership ids).

    ``lock`` takes the rows ``FOR UPDATE`` on PostgreSQL, in id order, so that a job and a
    concurrent ingest or redemption never overwrite each other's counters.
    """
    query = select(*_MEMBER_COLUMNS).where(loyalty_members.c.program == program)
    if lock and conn.dialect.name == "postgresql":
        query = query.order_by(loyalty_members.c.id).with_for_update()
    if member_ids is None:
        return [_member_of(tuple(row)) for row in conn.execute(query)]
    out: list[Member] = []
    for part in chunked(sorted(set(member_ids))):
        rows = conn.execute(query.where(loyalty_members.c.id.in_(part)))
        out.extend(_member_of(tuple(row)) for row in rows)
    return out


def new_member(customer_id: int, program: Program, at: datetime, how: str) -> Member:
    """A membership about to be created (written by ``Book.flush``)."""
    return Member(
        id=0,
        customer_id=customer_id,
        program=program.code,
        tier=program.tiers.levels[0].code,
        tier_since=at,
        reviews_since_grace=None,
        last_activity_at=None,
        available=0,
        pending=0,
        lifetime_earned=0,
        enrolled_at=at,
        new=True,
    )


# -- lots and the book -------------------------------------------------------------------


@dataclass(slots=True)
class BookLot:
    """A credit: its remaining points, and what a return of its purchase must take back.

    A lot does not point back at its ledger entry: the entry points at the lot, and a cycle
    between them kept a batch's lots, entries and members alive until the cycle collector
    ran (≈ 3 µs per ingested event, spent when ingest resumed collection).
    """

    member: Member
    remaining: int
    matured: bool
    expires_at: datetime | None
    at: datetime
    line_points: int = 0
    bonus_points: int = 0
    basis: int = 0
    reversed_basis: int = 0
    id: int = 0  # 0 until flushed
    matures_at: datetime | None = None
    changed: bool = False


@dataclass(slots=True)
class _Entry:
    member: Member
    kind: Kind
    at: datetime
    pending_delta: int
    available_delta: int
    reason: str
    actor: str
    event_id: int | None
    lot: BookLot | None = None  # the lot a debit drew on
    credit: BookLot | None = None  # set on credits: the lot this entry is
    matures_at: datetime | None = None
    basis: int = 0  # on reversals: the weighted basis of the lines that came back
    id: int = 0
    at_db: object = None  # ``at`` as the driver stores it, if the caller had it formatted


LEDGER_COLUMNS = (
    "id",
    "member_id",
    "kind",
    "at",
    "recorded_at",
    "pending_delta",
    "available_delta",
    "reason",
    "actor",
    "event_id",
    "lot_id",
    "basis",
    "line_points",
    "lot_remaining",
    "matured",
    "matures_at",
    "expires_at",
)
MEMBER_INSERT_COLUMNS = (
    "id",
    "customer_id",
    "program",
    "enrolled_at",
    "enrolled_how",
    "tier",
    "tier_since",
)
_UPDATE_MEMBER = {
    "sqlite": (
        "UPDATE loyalty_members SET tier=?, tier_since=?, reviews_since_grace=?, "
        "last_activity_at=?, purchase_count=?, welcome_given=?, double_day=?, cap_day=?, "
        "cap_day_points=?, cap_month=?, cap_month_points=?, available=available+?, "
        "pending=pending+?, lifetime_earned=lifetime_earned+? WHERE id=?"
    ),
    "postgresql": (
        "UPDATE loyalty_members SET tier=%s, tier_since=%s, reviews_since_grace=%s, "
        "last_activity_at=%s, purchase_count=%s, welcome_given=%s, double_day=%s, cap_day=%s, "
        "cap_day_points=%s, cap_month=%s, cap_month_points=%s, available=available+%s, "
        "pending=pending+%s, lifetime_earned=lifetime_earned+%s WHERE id=%s"
    ),
}
_UPDATE_COUNTERS = {  # _UPDATE_MEMBER for a member whose tier fields did not change
    "sqlite": (
        "UPDATE loyalty_members SET last_activity_at=?, purchase_count=?, welcome_given=?, "
        "cap_day=?, cap_day_points=?, cap_month=?, cap_month_points=?, "
        "available=available+?, pending=pending+?, lifetime_earned=lifetime_earned+? WHERE id=?"
    ),
    "postgresql": (
        "UPDATE loyalty_members SET last_activity_at=%s, purchase_count=%s, welcome_given=%s, "
        "cap_day=%s, cap_day_points=%s, cap_month=%s, cap_month_points=%s, "
        "available=available+%s, pending=pending+%s, lifetime_earned=lifetime_earned+%s "
        "WHERE id=%s"
    ),
}
_UPDATE_LOT = {
    "sqlite": "UPDATE loyalty_ledger SET lot_remaining=?, matured=? WHERE id=?",
    "postgresql": "UPDATE loyalty_ledger SET lot_remaining=%s, matured=%s WHERE id=%s",
}


class Book:
    """Collects one command's point movements and writes them set-based on ``flush``."""

    def __init__(self, conn: Connection, now: datetime, actor: str = "system") -> None:
        self.conn = conn
        self.now = now
        self.actor = actor
        self.entries: list[_Entry] = []
        self.members: dict[int, Member] = {}  # id(member) → member, touched this command
        self.lots: list[BookLot] = []
        self._available_lots: dict[int, list[BookLot]] = {}

    def touch(self, member: Member) -> None:
        self.members[id(member)] = member

    # credits ----------------------------------------------------------------------

    def credit(
        self,
        member: Member,
        kind: Kind,
        points: int,
        *,
        at: datetime,
        reason: str,
        event_id: int | None,
        matured: bool,
        at_db: object = None,
        matures_at: datetime | None = None,
        expires_at: datetime | None = None,
        line_points: int = 0,
        basis: int = 0,
        actor: str | None = None,
        counts_as_earned: bool = True,
    ) -> BookLot:
        """Add points as a new lot: pending until ``matures_at`` unless ``matured``.

        ``at_db`` is ``at`` as the driver stores it, when the caller has it already (ingest
        formats each event's time once for the events row); ``flush`` formats it otherwise.
        """
        bonus = points - line_points
        lot = BookLot(member, points, matured, expires_at, at, line_points, bonus, basis)
        entry = _Entry(
            member,
            kind,
            at,
            0 if matured else points,
            points if matured else 0,
            reason[:500],
            actor or self.actor,
            event_id,
            credit=lot,
            matures_at=at if matured else matures_at,
            at_db=at_db,
        )
        self.entries.append(entry)
        self.lots.append(lot)
        if matured:
            member.d_available += points
            member.available += points
            self._available_lots.setdefault(id(member), []).append(lot)
        else:
            member.d_pending += points
            member.pending += points
        if counts_as_earned:
            member.d_earned += points
            member.lifetime_earned += points
        self.members[id(member)] = member  # touch(), inline: one credit per ingested purchase
        return lot

    # debits -----------------------------------------------------------------------

    def take_from_lot(
        self,
        lot: BookLot,
        kind: Kind,
        points: int,
        *,
        at: datetime,
        reason: str,
        event_id: int | None,
        actor: str | None = None,
        basis: int = 0,
    ) -> int:
        """Take up to ``points`` from one lot (pending or available); returns what was taken.

        A reversal is written even when it moves nothing, because its ``basis`` records how
        much of the purchase has come back (the next partial return is priced from it).
        """
        take = max(0, min(points, lot.remaining))
        if take <= 0 and not basis:
            return 0
        member = lot.member
        lot.remaining -= take
        lot.changed = True
        if lot.matured:
            member.available -= take
            member.d_available -= take
            entry = _Entry(member, kind, at, 0, -take, reason[:500], actor or self.actor, event_id)
        else:
            member.pending -= take
            member.d_pending -= take
            entry = _Entry(member, kind, at, -take, 0, reason[:500], actor or self.actor, event_id)
        entry.lot = lot
        entry.basis = basis
        self.entries.append(entry)
        self.touch(member)
        return take

    def spend(
        self,
        member: Member,
        kind: Kind,
        points: int,
        *,
        at: datetime,
        reason: str,
        event_id: int | None,
        actor: str | None = None,
    ) -> int:
        """Spend available points, nearest expiry first, as ONE entry; returns the amount.

        Spends at most what the member has available: the caller checks first when the
        full amount is required (redemption); a reversal takes what is left.
        """
        lots = self.available_lots(member)
        amount = min(points, sum(lot.remaining for lot in lots))
        if amount <= 0:
            return 0
        by_id = dict(enumerate(lots))
        plan = allocate(
            [Lot(index, lot.remaining, lot.expires_at) for index, lot in by_id.items()], amount
        )
        for index, take in plan:
            lot = by_id[index]
            lot.remaining -= take
            lot.changed = True
        member.available -= amount
        member.d_available -= amount
        self.entries.append(
            _Entry(member, kind, at, 0, -amount, reason[:500], actor or self.actor, event_id)
        )
        self.touch(member)
        return amount

    def mature(self, lot: BookLot, at: datetime) -> None:
        """Move a lot's remaining points from pending to available."""
        member = lot.member
        points = lot.remaining
        lot.matured = True
        lot.changed = True
        member.pending -= points
        member.d_pending -= points
        member.available += points
        member.d_available += points
        entry = _Entry(member, "mature", at, -points, points, "return window over", "system", None)
        entry.lot = lot
        self.entries.append(entry)
        self.touch(member)
        # Spendable from now on in this command, although the store still says pending.
        self._available_lots.setdefault(id(member), []).append(lot)

    def available_lots(self, member: Member) -> list[BookLot]:
        """The member's spendable lots: stored ones (loaded once per command) and those
        credited or matured by this command."""
        key = id(member)
        if not member.lots_loaded:
            fresh = self._available_lots.get(key, [])
            known = {lot.id for lot in fresh if lot.id}
            loaded = [
                lot
                for lot in self.load_lots(
                    [member],
                    (loyalty_ledger.c.matured.is_(True)) & (loyalty_ledger.c.lot_remaining > 0),
                )
                if lot.id not in known
            ]
            self._available_lots[key] = loaded + fresh
            member.lots_loaded = True
        return [lot for lot in self._available_lots[key] if lot.remaining > 0 and lot.matured]

    def load_lots(self, members: Sequence[Member], condition: object) -> list[BookLot]:
        """Stored lots of these members matching a condition on ``loyalty_ledger``.

        A lot this book already holds (a return loads its purchase's lot first) comes back
        as that same object, with what this command took from it: a second copy at the
        stored size let a return take the spent part of its purchase's points again from
        "other points", and the till's return failed on a negative balance.
        """
        by_id = {m.id: m for m in members if not m.new}
        held = {lot.id: lot for lot in self.lots if lot.id}
        out: list[BookLot] = []
        fresh: list[BookLot] = []
        c = loyalty_ledger.c
        for part in chunked(sorted(by_id)):
            rows = self.conn.execute(
                select(
                    c.id,
                    c.member_id,
                    c.lot_remaining,
                    c.matured,
                    c.expires_at,
                    c.at,
                    c.line_points,
                    c.basis,
                    c.pending_delta + c.available_delta,
                    c.matures_at,
                ).where(c.member_id.in_(part), c.lot_remaining.is_not(None), condition)  # type: ignore[arg-type]
            )
            for lid, mid, remaining, matured, expires, at, line_points, basis, points, ripe in rows:
                if int(lid) in held:
                    out.append(held[int(lid)])
                    continue
                lot = BookLot(
                    by_id[mid],
                    int(remaining),
                    bool(matured),
                    expires,
                    at,
                    line_points=int(line_points),
                    bonus_points=int(points) - int(line_points),
                    basis=int(basis),
                    id=int(lid),
                    matures_at=ripe,
                )
                out.append(lot)
                fresh.append(lot)
        self.lots.extend(fresh)
        return out

    # writing ----------------------------------------------------------------------

    def flush(self) -> None:
        """Write everything collected, set-based, in the caller's transaction."""
        conn = self.conn
        dialect = conn.dialect.name
        fresh = [m for m in self.members.values() if m.new]
        if fresh:
            ids = allocate_ids(conn, loyalty_members, len(fresh))
            for member, new_id in zip(fresh, ids, strict=True):
                member.id = new_id
            new_rows: list[tuple[object, ...]] = []
            for m in fresh:
                enrolled = db_time(dialect, m.enrolled_at)
                since = enrolled
                if m.tier_since is not m.enrolled_at:  # usually the very same instant
                    since = db_time(dialect, m.tier_since)
                new_rows.append((m.id, m.customer_id, m.program, enrolled, "auto", m.tier, since))
            insert_rows(conn, loyalty_members, MEMBER_INSERT_COLUMNS, new_rows)
            for member in fresh:
                member.new = False
        if self.entries:
            ids = allocate_ids(conn, loyalty_ledger, len(self.entries))
            sqlite = dialect == "sqlite"
            # On SQLite the instants go in as ``UtcDateTime``'s UTC text, converted here once.
            when: Any = utc_text if sqlite else _same
            later: Any = _later_text if sqlite else _later_same
            recorded = when(self.now)
            rows: list[tuple[Any, ...]] = []
            append = rows.append
            # A debit always comes after the credit it draws on, so that lot has its id here.
            for e, new_id in zip(self.entries, ids, strict=True):
                e.id = new_id
                lot = e.credit
                if lot is None:
                    debited = e.lot
                    append(
                        (
                            new_id,
                            e.member.id,
                            e.kind,
                            when(e.at),
                            recorded,
                            e.pending_delta,
                            e.available_delta,
                            e.reason,
                            e.actor,
                            e.event_id,
                            debited.id if debited is not None else None,
                            e.basis,
                            0,
                            None,
                            None,
                            None,
                            None,
                        )
                    )
                    continue
                lot.id = new_id
                lot.changed = False
                ripe = e.matures_at
                expires = lot.expires_at
                at = e.at
                at_db = when(at) if e.at_db is None else e.at_db
                append(
                    (
                        new_id,
                        e.member.id,
                        e.kind,
                        at_db,
                        recorded,
                        e.pending_delta,
                        e.available_delta,
                        e.reason,
                        e.actor,
                        e.event_id,
                        None,
                        lot.basis,
                        lot.line_points,
                        lot.remaining,
                        lot.matured,
                        None if ripe is None else later(at_db, at, ripe),
                        None if expires is None else later(at_db, at, expires),
                    )
                )
            insert_rows(conn, loyalty_ledger, LEDGER_COLUMNS, rows)
        lot_rows = [(lot.remaining, lot.matured, lot.id) for lot in self.lots if lot.changed]
        update_rows(conn, _UPDATE_LOT, lot_rows)
        for lot in self.lots:
            lot.changed = False
        member_rows = []
        counter_rows = []
        when = utc_text if dialect == "sqlite" else _same
        for m in self.members.values():
            k = m.earning
            double = k.double_day
            activity = m.last_activity_at
            known = m.activity_db
            if known is not None and known[0] is activity:
                activity_db = known[1]
            else:
                activity_db = None if activity is None else when(activity)
            if m.stored == (m.tier, m.tier_since, m.reviews_since_grace, double):
                counter_rows.append(
                    (
                        activity_db,
                        k.purchase_count,
                        k.welcome_given,
                        _db_date(dialect, k.cap_day),
                        k.cap_day_points,
                        k.cap_month,
                        k.cap_month_points,
                        m.d_available,
                        m.d_pending,
                        m.d_earned,
                        m.id,
                    )
                )
            else:
                member_rows.append(
                    (
                        m.tier,
                        db_time(dialect, m.tier_since),
                        m.reviews_since_grace,
                        activity_db,
                        k.purchase_count,
                        k.welcome_given,
                        _db_date(dialect, double),
                        _db_date(dialect, k.cap_day),
                        k.cap_day_points,
                        k.cap_month,
                        k.cap_month_points,
                        m.d_available,
                        m.d_pending,
                        m.d_earned,
                        m.id,
                    )
                )
                m.stored = (m.tier, m.tier_since, m.reviews_since_grace, double)
            m.d_available = m.d_pending = m.d_earned = 0
        update_rows(conn, _UPDATE_MEMBER, member_rows)
        update_rows(conn, _UPDATE_COUNTERS, counter_rows)
        self.entries = []
        self.members = {}


# -- what is due before a balance is checked --------------------------------------------


def inactive(program: Program, member: Member, now: datetime) -> bool:
    """Whether all the member's points are due to expire under ``inactivity`` expiry (one
    who never earned or redeemed counts from enrolment)."""
    return program.expiry.mode == "inactivity" and (
        member.last_activity_at or member.enrolled_at
    ) <= add_months(now, -program.expiry.months)


def idle_lapsed(program: Program, lot: BookLot, now: datetime) -> bool:
    """Whether an idle member's lot has gone: inactivity never takes a lot before it is
    ``expiry.months`` old, so goodwill or an adjustment given to a member idle for years
    is theirs for as long as any points are, not gone the night it was given."""
    return inactive(program, lot.member, now) and add_months(lot.at, program.expiry.months) <= now


def expire_if_due(book: Book, program: Program, lot: BookLot, now: datetime) -> int:
    """Expire what is left of a matured lot past its date (or of an inactive member's);
    returns the points expired. The job calls it, and every debit before checking a balance."""
    if not lot.matured or lot.remaining <= 0:
        return 0
    idle = idle_lapsed(program, lot, now)
    if not idle and (lot.expires_at is None or lot.expires_at > now):
        return 0
    why = (
        f"no points earned or spent for {program.expiry.months} months"
        if idle
        else f"earned {lot.at.date().isoformat()}, expired after {program.expiry.months} months"
    )
    return book.take_from_lot(lot, "expire", lot.remaining, at=now, reason=why, event_id=None)


def settle(book: Book, program: Program, member: Member, now: datetime) -> None:
    """Book what is due for one member before their balance is checked: points whose return
    window is over become available, points past their expiry are expired, whether or not
    the nightly job has run. So a redemption or a manager's deduction finds exactly what the
    member's status shows, never points that are gone nor fewer than are there."""
    c = loyalty_ledger.c
    for lot in book.load_lots([member], (c.matured.is_(False)) & (c.matures_at <= now)):
        book.mature(lot, now)
    for lot in book.available_lots(member):
        expire_if_due(book, program, lot, now)


def _same(moment: datetime) -> datetime:
    return moment


#: Time zone types whose offset is the same at every instant.
_FIXED_OFFSET = (timezone, TzInfo)


def _later_text(start_text: str, start: datetime, later: datetime) -> str:
    """``utc_text(later)`` from ``start``'s text: when the two are whole days apart at the
    same UTC offset (a lot's maturity and expiry usually are), only the date moves.

    A lot's dates are its earn time plus days, so they share its time zone object; when that
    zone is a fixed offset (as every time pydantic parses from ISO text is) the offsets are
    equal without asking (``utcoffset`` was most of this function's cost otherwise).
    """
    step = later - start
    if step.seconds or step.microseconds:
        return utc_text(later)
    zone = start.tzinfo
    fixed = zone is later.tzinfo and type(zone) in _FIXED_OFFSET
    if fixed or later.utcoffset() == start.utcoffset():
        return _day_after(start_text[:10], step.days) + start_text[10:]
    return utc_text(later)


@lru_cache(maxsize=4096)
def _day_after(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def _later_same(start_db: object, start: datetime, later: datetime) -> datetime:
    return later


def _db_date(dialect: str, day: date | None) -> object:
    if day is None:
        return None
    return day.isoformat() if dialect == "sqlite" else day
