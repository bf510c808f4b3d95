"""The scheduler: each location's plan at its local hour, and the outbox every minute.

A location's day is planned once ``plan_hour`` has struck in its own time zone (a Lisbon
café at 06:00 Lisbon time, a New York shop at 06:00 New York time). Which (location, local
date) pairs already ran is kept in ``scheduler_runs`` under a unique key, so several
``regulars serve`` processes, or a restart at 06:30, never plan a day twice. A run that
started and never finished (its process died) is taken over after ``stale_after``; planning
is itself idempotent per decision key, so running it again is safe.

Customers without a home location are planned once a day with the first location (the
lowest id, ``moment_queries.unplaced_home``): at its plan hour, on its local date, in the same
run. A day missed entirely is planned late, up to ``CATCH_UP_DAYS`` back (``due_plans``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from regulars.channels.base import Channel
from regulars.services.outbox import DeliveryPolicy, DeliveryReport, deliver_outbox
from regulars.services.planning import PlanReport, plan_day
from regulars.store.moment_queries import location_zones, unplaced_home
from regulars.store.outbox_tables import scheduler_runs
from regulars.store.tables import locations
from regulars.store.uow import UnitOfWork

log = logging.getLogger("regulars.scheduler")

PLAN_JOB = "plan"


@dataclass(frozen=True)
class DuePlan:
    """A location day to plan: today once its plan hour has passed, or a missed day (late)."""

    location_id: int
    code: str
    day: date
    late: bool = False


@dataclass
class PlanRun:
    location: str
    day: date
    ok: bool
    detail: str


@dataclass
class TickReport:
    plans: list[PlanRun] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)


#: How many missed days back the scheduler still plans, late, when it comes back.
CATCH_UP_DAYS = 2


def due_plans(
    conn: Connection, now: datetime, *, catch_up_days: int = CATCH_UP_DAYS
) -> list[DuePlan]:
    """Location days whose plan hour has struck and that are not planned yet, oldest first.

    Today counts once ``plan_hour`` has struck on the location's local clock. A day the
    scheduler missed entirely (every server down through it) is planned late, up to
    ``catch_up_days`` back, so that its birthdays and the follow-ups of the day before it
    are not silently lost; the send guards still judge each message when it goes. Only
    days after the location's last planned one are caught up: a new installation or a
    new location starts today.
    """
    r = scheduler_runs.c
    loc = locations.c
    locals_ = [
        (location_id, str(code), now.astimezone(ZoneInfo(zone)), int(plan_hour))
        for location_id, code, zone, plan_hour in conn.execute(
            select(loc.id, loc.code, loc.timezone, loc.plan_hour).order_by(loc.id)
        )
    ]
    if not locals_:
        return []
    earliest = min(local.date() for _, _, local, _ in locals_) - timedelta(days=catch_up_days)
    last_planned: dict[int, date] = {}
    done: set[tuple[int, date]] = set()
    for location_id, day in conn.execute(
        select(r.location_id, r.day)
        .where(r.job == PLAN_JOB, r.finished_at.is_not(None))
        .where(r.day >= earliest - timedelta(days=1))
    ):
        done.add((location_id, day))
        last_planned[location_id] = max(day, last_planned.get(location_id, day))
    ever = {
        location_id
        for (location_id,) in conn.execute(
            select(r.location_id).where(r.job == PLAN_JOB, r.finished_at.is_not(None)).distinct()
        )
    }
    due: list[DuePlan] = []
    for location_id, code, local, plan_hour in locals_:
        today = local.date()
        days = [today] if local.hour >= plan_hour else []
        if location_id in ever:
            since = last_planned.get(location_id, today - timedelta(days=catch_up_days + 1))
            first_missed = max(since + timedelta(days=1), today - timedelta(days=catch_up_days))
            days = [first_missed + timedelta(days=n) for n in range((today - first_missed).days)]
            days += [today] if local.hour >= plan_hour else []
        due += [
            DuePlan(location_id, code, day, late=day < today)
            for day in days
            if (location_id, day) not in done
        ]
    return sorted(due, key=lambda plan: (plan.day, plan.location_id))


def claim_plan(
    conn: Connection,
    plan: DuePlan,
    *,
    now: datetime,
    worker_id: str,
    stale_after: timedelta = timedelta(minutes=30),
) -> bool:
    """Take the (location, day) for this worker; False when another has it or it is done."""
    r = scheduler_runs.c
    values = {
        "job": PLAN_JOB,
        "location_id": plan.location_id,
        "day": plan.day,
        "started_at": now,
        "worker_id": worker_id[:120],
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    inserted = conn.execute(
        dialect.insert(scheduler_runs)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["job", "location_id", "day"])
        .returning(r.id)
    ).first()
    if inserted is not None:
        return True
    taken_over = conn.execute(
        update(scheduler_runs)
        .where(
            r.job == PLAN_JOB,
            r.location_id == plan.location_id,
            r.day == plan.day,
            r.finished_at.is_(None),
            r.started_at < now - stale_after,
        )
        .values(started_at=now, worker_id=worker_id[:120])
    )
    return taken_over.rowcount == 1


def run_due_plans(
    new_uow: Callable[[], UnitOfWork],
    *,
    now: datetime,
    worker_id: str,
    leap_rule: str = "feb28",
) -> list[PlanRun]:
    """Plan every location whose hour has come; a failed plan is released to run again.

    The first location's plan also covers the customers with no home location."""
    with new_uow() as uow:
        due = due_plans(uow.conn, now)
        home = unplaced_home(location_zones(uow.conn))
    runs: list[PlanRun] = []
    for plan in due:
        with new_uow() as uow:
            claimed = claim_plan(uow.conn, plan, now=now, worker_id=worker_id)
            uow.commit()
        if not claimed:
            continue
        try:
            report = plan_day(
                new_uow(),
                day=plan.day,
                now=now,
                location=plan.code,
                with_unplaced=plan.location_id == home,
                leap_rule=leap_rule,
            )
            detail = _summary(report)
            if plan.late:
                log.warning("planned %s for %s late: that day was missed", plan.code, plan.day)
                detail = f"planned late (the day was missed): {detail}"
            ok = True
        except Exception as error:  # one location's failure must not stop the others or the outbox
            log.exception("planning %s for %s failed", plan.code, plan.day)
            detail = f"{type(error).__name__}: {error}"
            ok = False
        with new_uow() as uow:
            where = and_(
                scheduler_runs.c.job == PLAN_JOB,
                scheduler_runs.c.location_id == plan.location_id,
                scheduler_runs.c.day == plan.day,
            )
            if ok:
                uow.conn.execute(
                    update(scheduler_runs)
                    .where(where)
                    .values(finished_at=now, detail=detail[:1000])
                )
            else:
                uow.conn.execute(delete(scheduler_runs).where(where))
            uow.commit()
        runs.append(PlanRun(plan.code, plan.day, ok, detail))
    return runs


def _summary(report: PlanReport) -> str:
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.counts().items()))
    return (
        f"{len(report.lines)} decisions ({counts or 'none'}); {report.tasks} tasks, "
        f"{report.messages} messages queued; {report.already_decided} already decided"
    )


class Scheduler:
    """The loop ``regulars serve`` runs in a background thread: plans, then the outbox."""

    def __init__(
        self,
        new_uow: Callable[[], UnitOfWork],
        channels: Mapping[str, Channel],
        *,
        clock: Callable[[], datetime],
        worker_id: str,
        policy: DeliveryPolicy | None = None,
        leap_rule: str = "feb28",
        every_s: float = 60.0,
        batch: int = 500,
    ) -> None:
        self.new_uow = new_uow
        self.channels = channels
        self.clock = clock
        self.worker_id = worker_id
        self.policy = policy
        self.leap_rule = leap_rule
        self.every_s = every_s
        self.batch = batch
        self.stop = threading.Event()

    def tick(self) -> TickReport:
        """One round: due plans first (they queue messages), then every due message."""
        report = TickReport()
        report.plans = run_due_plans(
            self.new_uow, now=self.clock(), worker_id=self.worker_id, leap_rule=self.leap_rule
        )
        while True:
            pass_report = deliver_outbox(
                self.new_uow(),
                self.channels,
                now=self.clock(),
                worker_id=self.worker_id,
                limit=self.batch,
                policy=self.policy,
            )
            report.delivery.add(pass_report)
            if pass_report.claimed < self.batch or self.stop.is_set():
                break
        return report

    def run(self) -> None:
        """Tick every ``every_s`` seconds until ``stop`` is set; errors are logged, not fatal."""
        while not self.stop.is_set():
            try:
                report = self.tick()
                for run in report.plans:
                    log.info("plan %s %s: %s", run.location, run.day, run.detail)
                if report.delivery.claimed:
                    log.info("outbox: %s", report.delivery.as_dict())
            except Exception:  # the scheduler thread must outlive a bad minute (database restart)
                log.exception("scheduler tick failed; trying again in %.0f s", self.every_s)
            self.stop.wait(self.every_s)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="regulars-scheduler", daemon=True)
        thread.start()
        return thread


__all__ = [
    "DuePlan",
    "PlanRun",
    "Scheduler",
    "TickReport",
    "claim_plan",
    "due_plans",
    "run_due_plans",
]
