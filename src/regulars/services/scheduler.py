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
from regulars.domain.access import SYSTEM
from regulars.services.loyalty_jobs import expire_points, review_tiers
from regulars.services.outbox import DeliveryPolicy, DeliveryReport, deliver_outbox
from regulars.services.planning import PlanReport, plan_day
from regulars.store.moment_queries import location_zones, unplaced_home
from regulars.store.outbox_tables import scheduler_runs
from regulars.store.tables import locations
from regulars.store.uow import UnitOfWork

log = logging.getLogger("regulars.scheduler")

PLAN_JOB = "plan"
LOYALTY_JOB = "loyalty"
#: The local hour (first location's zone) from which the nightly loyalty jobs run.
LOYALTY_HOUR = 2


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
    loyalty: PlanRun | None = None
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
    job: str = PLAN_JOB,
) -> bool:
    """Take the (job, location, day) for this worker; False when another has it or it is done."""
    r = scheduler_runs.c
    values = {
        "job": job,
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
            r.job == job,
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
        _settle_run(new_uow, PLAN_JOB, plan, ok=ok, detail=detail, now=now)
        runs.append(PlanRun(plan.code, plan.day, ok, detail))
    return runs


def _settle_run(
    new_uow: Callable[[], UnitOfWork],
    job: str,
    plan: DuePlan,
    *,
    ok: bool,
    detail: str,
    now: datetime,
) -> None:
    """Mark a claimed run finished, or release a failed one to be tried again next tick."""
    with new_uow() as uow:
        where = and_(
            scheduler_runs.c.job == job,
            scheduler_runs.c.location_id == plan.location_id,
            scheduler_runs.c.day == plan.day,
        )
        if ok:
            uow.conn.execute(
                update(scheduler_runs).where(where).values(finished_at=now, detail=detail[:1000])
            )
        else:
            uow.conn.execute(delete(scheduler_runs).where(where))
        uow.commit()


def run_loyalty_jobs(
    new_uow: Callable[[], UnitOfWork], *, now: datetime, worker_id: str
) -> PlanRun | None:
    """The loyalty programs' nightly work, once a day from ``LOYALTY_HOUR``: pending points
    mature, due points expire (with their warnings ahead), and tiers are reviewed.

    Both jobs are idempotent (expiry books only what is due by ``now``; a member's tier is
    reviewed once a month), so a restart or a second server costs nothing; the day is kept
    in ``scheduler_runs`` on the first location's calendar, as the unplaced customers' plan.
    """
    with new_uow() as uow:
        zones = location_zones(uow.conn)
    home = unplaced_home(zones)
    if home is None:
        return None
    local = now.astimezone(ZoneInfo(zones[home][0]))
    if local.hour < LOYALTY_HOUR:
        return None
    run = DuePlan(home, zones[home][2], local.date())
    with new_uow() as uow:
        claimed = claim_plan(uow.conn, run, now=now, worker_id=worker_id, job=LOYALTY_JOB)
        uow.commit()
    if not claimed:
        return None
    try:
        expired = expire_points(new_uow(), SYSTEM, now=now)
        reviewed = review_tiers(new_uow(), SYSTEM, now=now)
        detail = f"expiry: {_per_program(expired)} | reviews: {_per_program(reviewed)}"
        ok = True
    except Exception as error:  # the outbox must still go out; the jobs run again next tick
        log.exception("the loyalty jobs of %s failed", run.day)
        detail = f"{type(error).__name__}: {error}"
        ok = False
    _settle_run(new_uow, LOYALTY_JOB, run, ok=ok, detail=detail, now=now)
    return PlanRun("loyalty", run.day, ok, detail)


def _per_program(summary: Mapping[str, Mapping[str, int]]) -> str:
    """``{"cafe": {"expired": 3, "matured": 9}}`` as "cafe: 3 expired, 9 matured"."""
    return (
        "; ".join(
            f"{code}: " + ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
            for code, counts in sorted(summary.items())
        )
        or "no programs"
    )


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
        """One round: the nightly loyalty jobs when due (a review's tier news feeds the plan),
        then due plans (they queue messages), then every due message."""
        report = TickReport()
        report.loyalty = run_loyalty_jobs(self.new_uow, now=self.clock(), worker_id=self.worker_id)
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
                if report.loyalty is not None:
                    log.info("loyalty jobs %s: %s", report.loyalty.day, report.loyalty.detail)
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
    "run_loyalty_jobs",
]
