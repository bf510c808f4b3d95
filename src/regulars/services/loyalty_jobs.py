"""The loyalty engine's scheduled work: mature, expire, warn, and review tiers.

Both jobs are safe to run as often as the scheduler likes: maturing and expiring only act
on what is due, warnings carry a key per member and date (ingest drops repeats), and a
member's tier is reviewed at most once per calendar month.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select, update

from regulars.domain.access import Actor
from regulars.domain.ledger import add_months
from regulars.domain.tiers import month_key, review, window_months
from regulars.services.access import require, require_manager
from regulars.services.loyalty import OWN_SOURCE, _tier_event, _zone
from regulars.services.loyalty_book import (
    Book,
    LoadedProgram,
    Member,
    current_programs,
    expire_if_due,
    members_of_program,
)
from regulars.store.lookups import chunked
from regulars.store.loyalty_tables import loyalty_ledger, loyalty_members, loyalty_qualifying
from regulars.store.uow import UnitOfWork


def expire_points(uow: UnitOfWork, actor: Actor, *, now: datetime) -> dict[str, dict[str, int]]:
    """Mature pending points whose return window is over, expire what is due, warn ahead.

    Returns, per program, how many points matured and expired and how many warnings went out.
    """
    require(actor, "loyalty:write")
    require_manager(actor)
    summary: dict[str, dict[str, int]] = {}
    with uow:
        conn = uow.conn
        timeline: list[dict[str, Any]] = []
        for code, lp in sorted(current_programs(conn).items()):
            summary[code] = _expire_program(conn, lp, now, timeline)
        if timeline:
            from regulars.services.ingest import append_events  # late: ingest imports loyalty

            append_events(conn, timeline, now=now)
        uow.commit()
    return summary


def _members_by_id(conn: Connection, lp: LoadedProgram, member_ids: set[int]) -> dict[int, Member]:
    if not member_ids:
        return {}
    return {m.id: m for m in members_of_program(conn, lp.code, sorted(member_ids), lock=True)}


def _expire_program(
    conn: Connection, lp: LoadedProgram, now: datetime, timeline: list[dict[str, Any]]
) -> dict[str, int]:
    program = lp.program
    c = loyalty_ledger.c
    m = loyalty_members.c
    book = Book(conn, now)
    in_program = c.member_id.in_(select(m.id).where(m.program == lp.code))
    due_ids = set(
        conn.scalars(
            select(c.member_id).where(
                in_program,
                c.lot_remaining.is_not(None),
                ((c.matured.is_(False)) & (c.matures_at <= now))
                | ((c.lot_remaining > 0) & (c.expires_at <= now)),
            )
        )
    )
    inactive_since = add_months(now, -program.expiry.months)
    if program.expiry.mode == "inactivity":
        due_ids |= set(
            conn.scalars(
                select(m.id).where(
                    m.program == lp.code,
                    _last_active_between(None, inactive_since),
                    (m.available + m.pending) > 0,
                )
            )
        )
    members = _members_by_id(conn, lp, due_ids)
    lots = book.load_lots(list(members.values()), c.lot_remaining >= 0) if members else []
    matured = expired = 0
    for lot in sorted(lots, key=lambda lot: (lot.at, lot.id)):
        if not lot.matured and lot.matures_at is not None and lot.matures_at <= now:
            matured += lot.remaining
            book.mature(lot, now)
        expired += expire_if_due(book, program, lot, now)
    book.flush()
    warned = _warn(conn, lp, now, timeline)
    return {"matured": matured, "expired": expired, "warned": warned}


def _warn(
    conn: Connection, lp: LoadedProgram, now: datetime, timeline: list[dict[str, Any]]
) -> int:
    """ "Points expiring soon" events, one per member and expiry date: the first local day
    within ``warn_days`` on which some of the member's points go, and exactly the points
    that go that day (a later day gets its own warning once this one has passed), so the
    message never puts points that expire later under an earlier date."""
    program = lp.program
    zone = _zone(program.timezone)
    soonest: dict[int, tuple[date, int]] = {}
    for cid, when, points in _expiring_soon(conn, lp, now):
        day = when.astimezone(zone).date()
        first = soonest.get(cid)
        if first is None or day < first[0]:
            soonest[cid] = (day, points)
        elif day == first[0]:
            soonest[cid] = (day, first[1] + points)
    for cid, (day, points) in sorted(soonest.items()):
        timeline.append(
            {
                "type": "points_expiring",
                "source": OWN_SOURCE,
                "external_id": f"loyalty:{lp.code}:{cid}:expiring:{day.isoformat()}",
                "occurred_at": now.isoformat(),
                "customer_id": cid,
                "points": points,
                "expires_on": day.isoformat(),
                "program": lp.code,
            }
        )
    return len(soonest)


def _expiring_soon(
    conn: Connection, lp: LoadedProgram, now: datetime
) -> list[tuple[int, datetime, int]]:
    """(customer id, when, points) for each lot whose points go within ``warn_days``: at its
    expiry date, or under ``inactivity`` when the member will have been idle ``expiry.months``
    and the lot is that old too (as ``loyalty_book.idle_lapsed`` expires it)."""
    program = lp.program
    horizon = now + timedelta(days=program.expiry.warn_days)
    c = loyalty_ledger.c
    m = loyalty_members.c
    lots = loyalty_ledger.join(loyalty_members, m.id == c.member_id)
    if program.expiry.mode == "earn_date":
        rows = conn.execute(
            select(m.customer_id, c.expires_at, c.lot_remaining)
            .select_from(lots)
            .where(
                m.program == lp.code,
                c.lot_remaining > 0,
                c.expires_at > now,
                c.expires_at <= horizon,
            )
        )
        return [(int(cid), when, int(points)) for cid, when, points in rows]
    if program.expiry.mode != "inactivity":
        return []
    months = program.expiry.months
    idle = conn.execute(
        select(
            m.customer_id,
            func.coalesce(m.last_activity_at, m.enrolled_at),
            c.at,
            c.lot_remaining,
        )
        .select_from(lots)
        .where(
            m.program == lp.code,
            _last_active_between(None, add_months(horizon, -months)),
            c.lot_remaining > 0,
        )
    )
    out = []
    for cid, last, at, points in idle:
        when = max(add_months(last, months), add_months(at, months))
        if now < when <= horizon:
            out.append((int(cid), when, int(points)))
    return out


def _last_active_between(start: datetime | None, end: datetime) -> ColumnElement[bool]:
    """Members last active in (start, end]; one who never earned or redeemed counts from
    enrolment. (Written as two ranges, not a coalesce, so the activity index still serves.)"""
    m = loyalty_members.c
    active = [m.last_activity_at <= end]
    never = [m.last_activity_at.is_(None), m.enrolled_at <= end]
    if start is not None:
        active.append(m.last_activity_at > start)
        never.append(m.enrolled_at > start)
    return or_(and_(*active), and_(*never))


def review_tiers(uow: UnitOfWork, actor: Actor, *, now: datetime) -> dict[str, dict[str, int]]:
    """Review every member's tier once this month: up, down (gently), grace, close to next."""
    require(actor, "loyalty:write")
    require_manager(actor)
    summary: dict[str, dict[str, int]] = {}
    with uow:
        conn = uow.conn
        timeline: list[dict[str, Any]] = []
        for code, lp in sorted(current_programs(conn).items()):
            summary[code] = _review_program(conn, lp, now, timeline)
        if timeline:
            from regulars.services.ingest import append_events  # late: ingest imports loyalty

            append_events(conn, timeline, now=now)
        uow.commit()
    return summary


def _review_program(
    conn: Connection, lp: LoadedProgram, now: datetime, timeline: list[dict[str, Any]]
) -> dict[str, int]:
    program = lp.program
    levels = program.tiers.levels
    today = now.astimezone(_zone(program.timezone)).date()
    this_month = month_key(today)
    first, last = window_months(program, today)
    if program.tiers.window == "rolling":
        # Judge the window that ended with the month just finished (on the 1st the new
        # month is still empty), plus what this month already brought if the job runs late.
        first, _ = window_months(program, today.replace(day=1) - timedelta(days=1))
    m = loyalty_members.c
    due = (m.reviewed_month.is_(None)) | (m.reviewed_month < this_month)
    due_ids = list(conn.scalars(select(m.id).where(m.program == lp.code, due)))
    counts = {"up": 0, "down": 0, "grace": 0, "same": 0, "close_to_next": 0}
    book = Book(conn, now)
    for part in chunked(due_ids, 2000):
        locked = members_of_program(conn, lp.code, list(part), lock=True)
        # Read after the lock: a purchase committed while we waited for it counts, and a
        # member a concurrent review (a second scheduler) judged meanwhile is not judged
        # again, which would count as a second review and take back this month's grace.
        still_due = set(conn.scalars(select(m.id).where(m.id.in_(list(part)), due)))
        locked = [member for member in locked if member.id in still_due]
        amounts = _amounts(conn, lp, [member.id for member in locked], first, last)
        for member in locked:
            current = program.tier_index(member.tier)
            amount = int(amounts.get(member.id, 0) or 0)
            outcome = review(program, current, amount, member.reviews_since_grace)
            counts[outcome.change] += 1
            member.reviews_since_grace = outcome.reviews_since_grace
            key = f"loyalty:{lp.code}:{member.customer_id}"
            if outcome.change != "same":
                timeline.append(
                    _tier_event(
                        lp.code,
                        member.customer_id,
                        now,
                        outcome.change,
                        levels[current].code,
                        levels[outcome.tier].code,
                        outcome.detail,
                        f"{key}:{outcome.change}:{this_month}",
                    )
                )
            if outcome.tier != current:
                member.tier = levels[outcome.tier].code
                member.tier_since = now
            nxt = outcome.tier + 1
            if nxt < len(levels):
                close = levels[nxt].threshold * program.tiers.close_to_next_percent // 100
                if amount >= close:
                    counts["close_to_next"] += 1
                    timeline.append(
                        _tier_event(
                            lp.code,
                            member.customer_id,
                            now,
                            "close_to_next",
                            levels[outcome.tier].code,
                            levels[nxt].code,
                            f"{levels[nxt].threshold - amount} short of {levels[nxt].name}",
                            f"{key}:close:{levels[nxt].code}:{this_month}",
                        )
                    )
            book.touch(member)
        book.flush()
        conn.execute(
            update(loyalty_members)
            .where(loyalty_members.c.id.in_(list(part)))
            .values(reviewed_month=this_month)
        )
    return counts


def _amounts(
    conn: Connection, lp: LoadedProgram, member_ids: list[int], first: int, last: int
) -> dict[int, int]:
    """What each of these members qualified with in the window (months ``first``–``last``).

    The review reads this only once it holds the members' locks: read before, a purchase
    that made a member Gold at the till while the review ran was not counted, and the
    review took the Gold away again the same morning.
    """
    q = loyalty_qualifying.c
    column = q.points if lp.program.tiers.qualify_on == "points" else q.spend
    mine = q.member_id.in_(member_ids)
    if lp.program.tiers.window == "calendar_year":
        # A tier earned in a calendar year is kept through the next one: the review counts
        # the better of last year and this year so far.
        rows = conn.execute(
            select(
                q.member_id,
                func.sum(case((q.month >= first, column), else_=0)),
                func.sum(case((q.month < first, column), else_=0)),
            )
            .where(mine, q.month >= first - 100, q.month <= last)
            .group_by(q.member_id)
        )
        return {mid: max(int(now_ or 0), int(before or 0)) for mid, now_, before in rows}
    totals = conn.execute(
        select(q.member_id, func.sum(column))
        .where(mine, q.month >= first, q.month <= last)
        .group_by(q.member_id)
    )
    return {mid: int(total or 0) for mid, total in totals}
