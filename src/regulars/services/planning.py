"""``plan_day``: the day's touches for every customer with a moment, and why.

The order of work, and why it is this order:

1. **Find** the moments set-based, per playbook (a café and a dealership read different
   rules and thresholds), for the customers of the locations that playbook serves.
2. **Skip** keys already decided: re-planning the same day changes nothing decided before.
3. **Choose** per candidate the first touch of its rule that the guards let through.
4. **Merge** a customer's other moments into their most important human touch.
5. **Allocate** calls to people (owner first, most important first); overflow falls back.
6. **Cap** automated messages per customer and week, most important first.
7. **Write** decisions (every one, skips included, with reasons), staff tasks, and outbox
   rows (through the delivery side's ``enqueue_message``) in one transaction.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, text, update

from regulars.domain.capacity import Caller, Standing, allocate
from regulars.domain.customers import Role
from regulars.domain.decisions import Choice, choose
from regulars.domain.errors import FieldProblem, InvalidInput
from regulars.domain.guards import CHANNEL_WORDS, Situation
from regulars.domain.moments import MOMENTS, Candidate, MomentKind
from regulars.domain.playbooks import Playbook, PlaybookBook, Purpose
from regulars.domain.pressure import PROMOTIONAL, SentLately, apply_caps, merge_human
from regulars.services.outbox import needed_context
from regulars.services.plan_messages import PlannedMessage, queue_planned_messages
from regulars.services.playbook_store import active_playbooks
from regulars.services.send_guard import situation_of
from regulars.store.bulk import db_json, db_time, insert_rows
from regulars.store.ids import allocate_ids
from regulars.store.moment_queries import (
    Decided,
    Facts,
    Scope,
    decided,
    find_candidates,
    find_lapsing,
    find_thresholded,
    gather_facts,
    location_zones,
    unplaced_home,
)
from regulars.store.outbox_tables import outbox
from regulars.store.planner_tables import plan_decisions, staff_tasks
from regulars.store.tables import staff, staff_locations
from regulars.store.uow import UnitOfWork


@dataclass(frozen=True)
class PlanLine:
    """One decision as the plan prints it."""

    decision_id: int | None
    customer_id: int
    customer: str
    moment: str
    occasion: str
    status: str
    touch: str | None
    assignee: str | None
    when: str | None
    reasons: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "customer_id": self.customer_id,
            "customer": self.customer,
            "moment": self.moment,
            "occasion": self.occasion,
            "status": self.status,
            "touch": self.touch,
            "assignee": self.assignee,
            "when": self.when,
            "reasons": self.reasons,
        }


@dataclass
class PlanReport:
    day: date
    dry_run: bool
    lines: list[PlanLine] = field(default_factory=list)
    already_decided: int = 0
    tasks: int = 0
    messages: int = 0
    expired: int = 0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for line in self.lines:
            out[line.status] += 1
        return dict(out)

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "dry_run": self.dry_run,
            "decisions": [line.as_dict() for line in self.lines],
            "counts": self.counts(),
            "already_decided": self.already_decided,
            "tasks": self.tasks,
            "messages": self.messages,
            "expired_prompts": self.expired,
        }


def plan_day(
    uow: UnitOfWork,
    *,
    day: date,
    now: datetime,
    location: str | None = None,
    with_unplaced: bool | None = None,
    dry_run: bool = False,
    leap_rule: str = "feb28",
    book: PlaybookBook | None = None,
) -> PlanReport:
    """Plan ``day`` (each customer's local calendar day) and write it unless ``dry_run``.

    What happened "yesterday" is read per time zone: the local day before ``day`` where
    the customers' home locations are.

    Customers without a home location are planned with everyone (no ``location``), or with
    ``location`` when ``with_unplaced`` is set (the scheduler sets it for ``unplaced_home``),
    on that location's calendar.
    """
    report = PlanReport(day, dry_run)
    with uow:
        conn = uow.conn
        if conn.dialect.name == "postgresql":
            # Planners queue here instead of racing for the same keys: not only two of the
            # same day, but also a day caught up late beside today's (a lapsing regular's key
            # is found on several mornings) and the reps' capacity both would hand out.
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PLAN_LOCK})
        book = book or active_playbooks(conn)
        zones = location_zones(conn)
        wanted: int | None = None
        if location is not None:
            wanted = next((lid for lid, (_, _, code) in zones.items() if code == location), None)
            if wanted is None:
                raise InvalidInput([FieldProblem("location", f"unknown location {location!r}")])
        planner = _Planner(conn, day=day, now=now, book=book, report=report)
        unplaced = wanted is None if with_unplaced is None else with_unplaced
        scopes = _scopes(book, zones, wanted, unplaced)
        for playbook, scope in scopes:
            for lid in scope.location_ids or ():
                planner.by_location.setdefault(lid, playbook)
            if scope.include_unplaced:
                planner.by_location.setdefault(None, playbook)
        planner.run(scopes, leap_rule)
        planner.fall_back_failed_messages()
        planned = Scope(tuple(zones) if wanted is None else (wanted,), include_unplaced=unplaced)
        report.expired = _expire_prompts(conn, day, now, planned)
        if dry_run:
            uow.rollback()
        else:
            uow.commit()
    return report


def _scopes(
    book: PlaybookBook,
    zones: dict[int, tuple[str, str, str]],
    wanted: int | None,
    unplaced: bool,
) -> list[tuple[Playbook, Scope]]:
    """Each playbook with the home locations it serves, per time zone (each zone's plan day
    and "yesterday" are its own local days); customers with no home location: the default."""
    groups: dict[tuple[int, str], tuple[Playbook, list[int]]] = {}
    for lid, (zone, kind, _) in sorted(zones.items()):
        if wanted is not None and lid != wanted:
            continue
        playbook = book.for_location_kind(kind)
        if playbook is not None:
            groups.setdefault((id(playbook), zone), (playbook, []))[1].append(lid)
    out = [
        (playbook, Scope(tuple(ids), include_unplaced=False, zone=zone))
        for (_, zone), (playbook, ids) in groups.items()
    ]
    default = book.playbooks.get("default")
    if unplaced and default is not None:
        home = wanted if wanted is not None else unplaced_home(zones)
        zone = zones[home][0] if home is not None else "UTC"
        out.append((default, Scope((), include_unplaced=True, zone=zone)))
    return out


def _expire_prompts(conn: Connection, day: date, now: datetime, planned: Scope) -> int:
    """Counter prompts whose days have passed are closed as expired, not left in the queue.

    Only the prompts of the locations being planned: ``day`` is their local date, and a
    location in another time zone may still be in the middle of the day its prompt is for.
    """
    t = staff_tasks.c
    where = [t.location_id.in_(planned.location_ids or ())]
    if planned.include_unplaced:
        where.append(t.location_id.is_(None))
    result = conn.execute(
        update(staff_tasks)
        .where(t.kind == "in_person", t.status == "open", t.valid_until < day, or_(*where))
        .values(status="expired", closed_at=now)
    )
    return int(result.rowcount or 0)


def _by_zone(scopes: Iterable[Scope]) -> list[Scope]:
    """One scope per time zone covering several: the candidates are found once per zone
    (its own calendar days), for all playbooks."""
    ids: dict[str, set[int]] = defaultdict(set)
    unplaced: dict[str, bool] = defaultdict(bool)
    for scope in scopes:
        ids[scope.zone].update(scope.location_ids or ())
        unplaced[scope.zone] = unplaced[scope.zone] or scope.include_unplaced
    return [
        Scope(tuple(sorted(ids[zone])), include_unplaced=unplaced[zone], zone=zone)
        for zone in sorted(ids)
    ]


class _Planner:
    def __init__(
        self, conn: Connection, *, day: date, now: datetime, book: PlaybookBook, report: PlanReport
    ) -> None:
        self.conn = conn
        self.day = day
        self.now = now
        self.book = book
        self.report = report
        self.playbook_of: dict[int, Playbook] = {}
        self.by_location: dict[int | None, Playbook] = {}
        self.situations: dict[int, Situation] = {}
        self.staff: dict[int, Caller] | None = None

    def run(self, scopes: list[tuple[Playbook, Scope]], leap_rule: str) -> None:
        candidates: dict[tuple[int, str, str], Candidate] = {}
        if not scopes:
            return
        smallest = min(playbook.thresholds.large_purchase for playbook, _ in scopes)
        found: list[Candidate] = []
        for zone in _by_zone(scope for _, scope in scopes):
            found += find_candidates(
                self.conn, day=self.day, scope=zone, large_purchase=smallest, leap_rule=leap_rule
            )
        for playbook, scope in scopes:
            found += find_thresholded(
                self.conn, day=self.day, scope=scope, thresholds=playbook.thresholds
            )
        plans = [(playbook.thresholds, scope) for playbook, scope in scopes]
        found += [c for c, _ in find_lapsing(self.conn, day=self.day, plans=plans)]
        for candidate in found:
            candidates.setdefault(candidate.key, candidate)
        if not candidates:
            return
        done = decided(self.conn, {k[0] for k in candidates}, self.day)
        fresh = [c for key, c in candidates.items() if key not in done.keys]
        self.report.already_decided = len(candidates) - len(fresh)
        if not fresh:
            return
        unhappy_days = max(p.thresholds.unhappy_days for p in self.book.playbooks.values())
        facts = gather_facts(
            self.conn, {c.customer_id for c in fresh}, now=self.now, unhappy_days=unhappy_days
        )
        per_customer: dict[int, list[Choice]] = defaultdict(list)
        for candidate in sorted(fresh, key=lambda c: c.key):
            fact = facts.get(candidate.customer_id)
            book = self.by_location.get(fact.location_id) if fact is not None else None
            if fact is None or book is None:
                continue
            if candidate.moment == MomentKind.large_purchase:
                amount = candidate.facts.get("amount", 0)
                if not isinstance(amount, int) or amount < book.thresholds.large_purchase:
                    continue
            self.playbook_of[candidate.customer_id] = book
            per_customer[candidate.customer_id].append(self._choose(candidate, fact, done))
        for choices in per_customer.values():
            merge_human(choices)
        self._allocate_calls(per_customer, facts, done)
        for cid, choices in per_customer.items():
            apply_caps(choices, self.playbook_of[cid].caps, _lately(done, cid))
        self._write(per_customer, facts)

    def _card_writer(self, fact: Facts) -> int | None:
        """The advisor writes the card when they can open the customer's profile; else it is
        the team's at the customer's location (unassigned), not lost in a queue that hides it."""
        if fact.owner_id is None:
            return None
        if self.staff is None:
            self.staff = _staff(self.conn)
        owner = self.staff.get(fact.owner_id)
        return fact.owner_id if owner is not None and owner.reaches(fact.location_id) else None

    def _situation_for(self, fact: Facts, done: Decided) -> Situation:
        """One situation per customer, however many moments they have today."""
        known = self.situations.get(fact.customer_id)
        if known is None:
            known = situation_of(fact, self.now, human_today=fact.customer_id in done.human_today)
            self.situations[fact.customer_id] = known
        return known

    def _choose(self, candidate: Candidate, fact: Facts, done: Decided, start: int = 0) -> Choice:
        playbook = self.playbook_of[candidate.customer_id]
        rule = playbook.rule_for(candidate.moment, fact.tier, fact.lifetime_spend)
        return choose(
            candidate,
            rule,
            self._situation_for(fact, done),
            day=self.day,
            now=self.now,
            default_send_at=playbook.send_at,
            unhappy_days=playbook.thresholds.unhappy_days,
            start=start,
        )

    def _allocate_calls(
        self, per_customer: dict[int, list[Choice]], facts: dict[int, Facts], done: Decided
    ) -> None:
        calls = [
            (choice, _standing(facts[cid]))
            for cid, choices in per_customer.items()
            for choice in choices
            if choice.touch_kind == "call"
        ]
        if not calls:
            return
        overflow = allocate(calls, _callers(self.conn, self.day), self.day)
        for choice in overflow:
            cid = choice.candidate.customer_id
            fallback = self._fallback(choice, facts[cid], done)
            choices = per_customer[cid]
            choices[choices.index(choice)] = fallback

    def _fallback(self, choice: Choice, fact: Facts, done: Decided) -> Choice:
        """The playbook's next touch after the call that found nobody (never another call)."""
        start = choice.touch_index + 1
        while True:
            nxt = self._choose(choice.candidate, fact, done, start=start)
            if nxt.touch_kind != "call":
                break
            start = nxt.touch_index + 1
        nxt.reasons = [*choice.reasons, *(r for r in nxt.reasons)]
        nxt.merged = choice.merged
        if nxt.status == "suppressed" and not nxt.reasons[-1].startswith("no touch"):
            nxt.because("no touch left in the playbook")
        return nxt

    def _capped_fallback(
        self, failed: Choice, fact: Facts, done: Decided, book: Playbook, sent: SentLately
    ) -> Choice:
        """The next touch after a failed message that the guards and the contact caps allow:
        a message over this week's caps is skipped with the cap as the reason, and the
        rule's next touch is tried, as for the touch that failed."""
        choice = self._fallback(failed, fact, done)
        while choice.automated:
            apply_caps([choice], book.caps, sent)
            if choice.active:
                break
            choice = self._fallback(choice, fact, done)
        return choice

    def fall_back_failed_messages(self) -> None:
        """A message the channel refused for good (a bad address) falls back per playbook.

        The decision keeps its key and gains the reason ("e-mail failed: … → falls back")
        and the next touch of its rule that the guards allow (never a call: today's calls
        are already given out); that touch becomes a task or a message under a new key.
        """
        d, o = plan_decisions.c, outbox.c
        failed = list(
            self.conn.execute(
                select(
                    d.id,
                    d.customer_id,
                    d.moment,
                    d.occasion,
                    d.detail,
                    d.reasons,
                    d.purpose,
                    o.channel,
                    o.last_error,
                )
                .select_from(plan_decisions.join(outbox, o.decision_id == d.id))
                .where(
                    o.status == "failed",
                    d.status == "planned",
                    d.touch == o.channel,
                    d.plan_date >= self.day - timedelta(days=7),
                )
            )
        )
        if not failed:
            return
        customers_ = {int(row.customer_id) for row in failed}
        facts = gather_facts(self.conn, customers_, now=self.now, unhappy_days=30)
        done = decided(self.conn, customers_, self.day)
        dialect = self.conn.dialect.name
        fallbacks: list[tuple[int, Choice, Facts]] = []
        outgoing: list[tuple[PlannedMessage, Choice]] = []
        for row in failed:
            fact = facts.get(int(row.customer_id))
            book = self.by_location.get(fact.location_id) if fact is not None else None
            if fact is None or book is None or row.moment not in MomentKind.__members__:
                continue
            self.playbook_of[fact.customer_id] = book
            moment = MomentKind(row.moment)
            rule = book.rule_for(moment, fact.tier, fact.lifetime_spend)
            kinds = [t.touch for t in rule.touches] if rule is not None else []
            start = kinds.index(row.channel) + 1 if row.channel in kinds else len(kinds)
            candidate = Candidate(int(row.customer_id), moment, str(row.occasion), str(row.detail))
            failed_choice = Choice(candidate, rule, touch_index=start - 1)
            word = CHANNEL_WORDS.get(str(row.channel), str(row.channel))
            failed_choice.reasons = [
                *(row.reasons or []),
                f"{word} failed: {row.last_error or 'refused'} → falls back",
            ]
            sent = _lately(done, fact.customer_id, besides=(str(row.channel), str(row.purpose)))
            choice = self._capped_fallback(failed_choice, fact, done, book, sent)
            if choice.automated:
                message = self._message(choice, fact, int(row.id))
                if message is not None:
                    key = f"{message.key}:{message.channel}"
                    outgoing.append((PlannedMessage(**{**message.__dict__, "key": key}), choice))
            fallbacks.append((int(row.id), choice, fact))
        self.report.messages += self._queue(outgoing)
        for decision_id, choice, fact in fallbacks:
            self._record_fallback(decision_id, choice, fact, dialect)

    def _record_fallback(self, decision_id: int, choice: Choice, fact: Facts, dialect: str) -> None:
        cand = choice.candidate
        self.conn.execute(
            update(plan_decisions)
            .where(plan_decisions.c.id == decision_id)
            .values(
                status=choice.status,
                touch=choice.touch_kind,
                reasons=choice.reasons,
                assignee_staff_id=None,
                send_after=choice.send_after if choice.automated else None,
                due_on=choice.due_on if choice.human else None,
            )
        )
        if choice.human and choice.touch is not None:
            kind = choice.touch.touch
            insert_rows(
                self.conn,
                staff_tasks,
                TASK_COLUMNS,
                [
                    (
                        decision_id,
                        cand.customer_id,
                        kind,
                        cand.moment.value,
                        self._card_writer(fact) if kind == "card" else None,
                        fact.location_id,
                        _db_date(dialect, choice.due_on or self.day),
                        _db_date(dialect, choice.valid_until if kind == "in_person" else None),
                        "open",
                        1,
                        _summary(choice),
                        db_time(dialect, self.now),
                    )
                ],
            )
            self.report.tasks += 1
        self.report.lines.append(
            PlanLine(
                decision_id,
                cand.customer_id,
                f"{fact.first_name} {fact.last_name}".strip(),
                cand.moment.value,
                cand.occasion,
                choice.status,
                choice.touch_kind,
                None,
                (choice.due_on.isoformat() if choice.human and choice.due_on else None),
                choice.explanation,
            )
        )

    def _write(self, per_customer: dict[int, list[Choice]], facts: dict[int, Facts]) -> None:
        every = [c for cid in sorted(per_customer) for c in per_customer[cid]]
        ids = allocate_ids(self.conn, plan_decisions, len(every))
        id_of = {choice.candidate.key: ids[n] for n, choice in enumerate(every)}
        names = _staff_names(self.conn)
        rows: list[tuple[Any, ...]] = []
        tasks: list[tuple[Any, ...]] = []
        outgoing: list[tuple[PlannedMessage, Choice]] = []
        dialect = self.conn.dialect.name
        day_value, now_value = _db_date(dialect, self.day), db_time(dialect, self.now)
        for choice in every:
            if choice.automated and choice.touch is not None and choice.touch.template:
                cand = choice.candidate
                message = self._message(choice, facts[cand.customer_id], id_of[cand.key])
                if message is not None:
                    outgoing.append((message, choice))
        # Queued before the decisions are written, so that a message the customer's profile
        # cannot carry is recorded as suppressed, with the reason, like a guard's veto.
        self.report.messages = self._queue(outgoing)
        for choice in every:
            cand = choice.candidate
            fact = facts[cand.customer_id]
            decision_id = id_of[cand.key]
            merged_into = id_of.get(choice.merged_into) if choice.merged_into else None
            rows.append(
                (
                    decision_id,
                    cand.customer_id,
                    cand.moment.value,
                    cand.occasion,
                    day_value,
                    fact.location_id,
                    choice.status,
                    choice.touch_kind,
                    choice.purpose.value,
                    choice.priority,
                    choice.assignee,
                    db_time(dialect, choice.send_after if choice.automated else None),
                    _db_date(dialect, choice.due_on if choice.human else None),
                    merged_into,
                    cand.detail[:300],
                    db_json(choice.reasons),
                    now_value,
                )
            )
            if choice.human and choice.touch is not None:
                kind = choice.touch.touch
                due = choice.due_on or self.day
                if kind == "call":
                    due = self.day + timedelta(days=choice.touch.within_days)
                assignee_id = choice.assignee if kind == "call" else None
                if kind == "card":
                    assignee_id = self._card_writer(fact)
                tasks.append(
                    (
                        decision_id,
                        cand.customer_id,
                        kind,
                        cand.moment.value,
                        assignee_id,
                        fact.location_id,
                        _db_date(dialect, due),
                        _db_date(dialect, choice.valid_until if kind == "in_person" else None),
                        "open",
                        1,
                        _summary(choice),
                        now_value,
                    )
                )
            assignee = names.get(choice.assignee) if choice.assignee else None
            when = choice.send_after.isoformat() if choice.automated and choice.send_after else None
            if choice.human and choice.due_on:
                when = choice.due_on.isoformat()
            self.report.lines.append(
                PlanLine(
                    decision_id,
                    cand.customer_id,
                    f"{fact.first_name} {fact.last_name}".strip(),
                    cand.moment.value,
                    cand.occasion,
                    choice.status,
                    choice.touch_kind,
                    assignee,
                    when,
                    choice.explanation,
                )
            )
        # Merged decisions point at their lead; write leads first so the reference exists.
        rows.sort(key=lambda row: row[13] is not None)
        insert_rows(self.conn, plan_decisions, DECISION_COLUMNS, rows)
        insert_rows(self.conn, staff_tasks, TASK_COLUMNS, tasks)
        self.report.tasks = len(tasks)

    def _queue(self, outgoing: list[tuple[PlannedMessage, Choice]]) -> int:
        """Queue the messages; the choice of each one refused is suppressed with the reason."""
        queued = queue_planned_messages(self.conn, [message for message, _ in outgoing])
        for message, choice in outgoing:
            reason = queued.refused.get(message.key)
            if reason is not None:
                choice.drop("suppressed", reason)
        return queued.count

    def _message(self, choice: Choice, fact: Facts, decision_id: int) -> PlannedMessage | None:
        """The outbox row for an automated touch, or None (and why) when it cannot be made."""
        touch = choice.touch
        if touch is None or touch.template is None:
            return None
        context = _context(choice, touch.template, touch.touch)
        if isinstance(context, str):
            choice.drop("suppressed", context)
            return None
        cand = choice.candidate
        return PlannedMessage(
            key=f"plan:{fact.customer_id}:{cand.moment.value}:{cand.occasion}",
            customer_id=fact.customer_id,
            channel=touch.touch,
            moment=cand.moment.value,
            template=touch.template,
            context=context,
            send_after=choice.send_after or self.now,
            decision_id=decision_id,
        )


#: The advisory lock every plan takes on PostgreSQL (SQLite has one writer anyway).
PLAN_LOCK = zlib.crc32(b"regulars:plan_day")

DECISION_COLUMNS = (
    "id",
    "customer_id",
    "moment",
    "occasion",
    "plan_date",
    "location_id",
    "status",
    "touch",
    "purpose",
    "priority",
    "assignee_staff_id",
    "send_after",
    "due_on",
    "merged_into_id",
    "detail",
    "reasons",
    "created_at",
)
TASK_COLUMNS = (
    "decision_id",
    "customer_id",
    "kind",
    "moment",
    "assignee_staff_id",
    "location_id",
    "due_on",
    "valid_until",
    "status",
    "attempt",
    "summary",
    "created_at",
)


def _db_date(dialect: str, day: date | None) -> Any:
    """A date as the driver stores it: ISO text on SQLite (as SQLAlchemy's Date does)."""
    if day is None:
        return None
    return day.isoformat() if dialect == "sqlite" else day


def _context(choice: Choice, template: str, channel: str) -> dict[str, str | int | None] | str:
    """What the template needs beyond the profile, from the moment's facts; or why not."""
    cand = choice.candidate
    label = MOMENTS[cand.moment].label
    available: dict[str, object] = {
        "occasion": cand.detail or label,
        "subject": label[:1].upper() + label[1:],
        "body": f"A note from us about your {label}"
        + (f": {cand.detail}." if cand.detail else "."),
        **cand.facts,
    }
    context: dict[str, str | int | None] = {}
    for name in sorted(_needed(template, channel)):
        value = available.get(name)
        if value is None or not isinstance(value, str | int):
            return f"template {template!r} needs {name!r}, which this moment does not provide"
        context[name] = value
    return context


@lru_cache(maxsize=256)
def _needed(template: str, channel: str) -> frozenset[str]:
    return frozenset(needed_context(template, channel))


def _summary(choice: Choice) -> str:
    moments = [choice.candidate, *choice.merged]
    words = []
    for cand in moments:
        label = MOMENTS[cand.moment].label
        words.append(f"{label} ({cand.detail})" if cand.detail else label)
    return "; ".join(words)[:500]


def _standing(fact: Facts) -> Standing:
    return Standing(
        tier=fact.tier,
        lifetime_spend=fact.lifetime_spend,
        at_risk=fact.open_complaint or fact.unhappy_at is not None,
        owner_id=fact.owner_id,
        location_id=fact.location_id,
    )


def _lately(
    done: Decided, customer_id: int, *, besides: tuple[str, str] | None = None
) -> SentLately:
    """The automated messages planned for this customer in the last seven days, but for one
    (``besides``: channel and purpose of a message that failed and so never reached them)."""
    lately = SentLately()
    planned = list(done.automated_week.get(customer_id, []))
    if besides in planned:
        planned.remove(besides)
    for touch, purpose in planned:
        if purpose == Purpose.transactional.value:
            continue
        lately.total += 1
        lately.per_channel[touch] = lately.per_channel.get(touch, 0) + 1
        if purpose in {p.value for p in PROMOTIONAL}:
            lately.promotional += 1
    return lately


def _staff(conn: Connection) -> dict[int, Caller]:
    """Active staff with where they work and their daily call capacity (0: takes no calls)."""
    s = staff.c
    where: dict[int, set[int]] = defaultdict(set)
    for sid, lid in conn.execute(select(staff_locations.c.staff_id, staff_locations.c.location_id)):
        where[int(sid)].add(int(lid))
    return {
        int(sid): Caller(
            id=int(sid),
            name=str(name),
            locations=frozenset(where[int(sid)]),
            capacity=int(capacity),
            working_days=frozenset(str(days).split(",")),
            everywhere=role == Role.owner.value,
        )
        for sid, name, capacity, days, role in conn.execute(
            select(s.id, s.name, s.daily_call_capacity, s.working_days, s.role).where(
                s.active.is_(True)
            )
        )
    }


def _callers(conn: Connection, day: date) -> list[Caller]:
    """Staff who take calls, with what today already holds for them: the calls earlier plans
    of the day gave them, and the retries and follow-ups due today."""
    t, d = staff_tasks.c, plan_decisions.c
    # A retry of an unanswered call or a promised follow-up is a call of its own day, made
    # by the same person: it takes a place in that day's capacity like a planned call.
    planned_today = and_(t.attempt == 1, t.decision_id.is_not(None), d.plan_date == day)
    waiting_today = and_(or_(t.attempt > 1, t.decision_id.is_(None)), t.due_on == day)
    taken: dict[Any, Any] = dict(
        conn.execute(
            select(t.assignee_staff_id, func.count())
            .select_from(staff_tasks.outerjoin(plan_decisions, d.id == t.decision_id))
            .where(
                t.kind == "call",
                t.status != "cancelled",
                t.assignee_staff_id.is_not(None),
                or_(planned_today, waiting_today),
            )
            .group_by(t.assignee_staff_id)
        ).all()
    )
    return [
        replace(caller, capacity=max(caller.capacity - int(taken.get(sid, 0)), 0))
        for sid, caller in _staff(conn).items()
        if caller.capacity > 0
    ]


def _staff_names(conn: Connection) -> dict[int, str]:
    return {int(i): str(n) for i, n in conn.execute(select(staff.c.id, staff.c.name))}


__all__ = ["PlanLine", "PlanReport", "plan_day"]
