"""Planner benchmark: plan one day over N customers, against a bare scan of the same table.

    .venv/bin/python bench/plan.py --customers 100000

Builds a fresh SQLite file with N customers and realistic moment rates (birthdays and
enrolment anniversaries spread over the year, a household member for 30 %, e-mail consent
for 60 %, 2 % who bought yesterday, loyalty tier and expiring-points events, surveys,
complaints, assets due for service, lapsing regulars, about one earlier event per customer)
with raw bulk inserts — not the demo
generator, which is built for realism, not volume. Then, in a fresh child process (so the
memory figure is the planner's alone), it times a bare full scan of the customer table
(every row fetched into Python) and ``plan_day`` for one day, writing decisions, tasks
and outbox rows. The last line is JSON.

Bar at 1 000 000 customers: plan ≤ 10 s, peak RSS ≤ 1 GiB, plan ≤ 5 × the scan.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

DAY = date(2026, 5, 1)
NOW = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
YESTERDAY = datetime(2026, 4, 30, 0, 0, tzinfo=UTC)
console = Console(stderr=True)
LOCATIONS = [
    (1, "CAFE-LIS", "Café Lisboa", "cafe", "Europe/Lisbon"),
    (2, "DEAL-POR", "Auto Porto", "dealership", "Europe/Lisbon"),
    (3, "OPT-MAD", "Óptica Madrid", "optician", "Europe/Madrid"),
]
STAFF = 24
CHUNK = 20_000


def ts(moment: datetime) -> str:
    """As ``UtcDateTime`` stores an instant on SQLite: naive UTC text."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def build(path: Path, customers: int, seed: int) -> dict[str, int]:
    from regulars.store.db import make_engine
    from regulars.store.schema import metadata

    engine = make_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    engine.dispose()
    rng = random.Random(seed)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO locations (id, code, name, brand, kind, timezone, currency, city, plan_hour)"
        " VALUES (?, ?, ?, '', ?, ?, 'EUR', '', 6)",
        LOCATIONS,
    )
    db.executemany(
        "INSERT INTO staff (id, email, name, role, daily_call_capacity, working_days, active,"
        " created_at) VALUES (?, ?, ?, 'rep', 25, 'mon,tue,wed,thu,fri', 1, ?)",
        [(i, f"rep{i}@example.com", f"Rep {i}", ts(NOW)) for i in range(1, STAFF + 1)],
    )
    db.executemany(
        "INSERT INTO staff_locations (staff_id, location_id) VALUES (?, ?)",
        [(i, (i % 3) + 1) for i in range(1, STAFF + 1)],
    )
    counts = {"customers": customers, "events": 0, "consents": 0, "members": 0, "assets": 0}
    next_event = 1
    for start in range(1, customers + 1, CHUNK):
        ids = range(start, min(start + CHUNK, customers + 1))
        cust, cons, households, members, assets, evts = [], [], [], [], [], []
        for cid in ids:
            has_household = rng.random() < 0.3
            row, extra = _customer(rng, cid, has_household)
            cust.append(row)
            location = row[11]
            if rng.random() < 0.6:
                cons.append((cid, "email", 1, ts(NOW - timedelta(days=400)), "bench"))
            if has_household:
                households.append((cid, ""))
                birthday = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 40))
                key = birthday.month * 100 + birthday.day
                members.append(
                    (cid, cid, None, f"Partner {cid}", "spouse", birthday.isoformat(), key)
                )
            if location == 2 or rng.random() < 0.05:
                due = DAY + timedelta(days=rng.randrange(-180, 365))
                model = "VW-ID4-2023-B" if rng.random() < 0.01 else "VW-ID4-2023"
                assets.append((cid, cid, "car", "VW ID.4", model, due.isoformat(), "{}"))
            for kind, at, payload, amount in extra:
                evts.append(
                    (
                        next_event,
                        cid,
                        kind,
                        ts(at),
                        location,
                        None,
                        "bench",
                        f"e{next_event}",
                        None,
                        amount,
                        json.dumps(payload),
                        ts(NOW),
                    )
                )
                next_event += 1
        db.executemany("INSERT INTO households (id, name) VALUES (?, ?)", households)
        db.executemany(
            "INSERT INTO customers (id, card_number, first_name, last_name, email, phone, birthday,"
            " birthday_key, language, preferred_channel, quiet_start, quiet_end, city, status,"
            " owner_staff_id, home_location_id, household_id, merged_into_id, created_at,"
            " updated_at, last_visit_at, last_purchase_at, purchase_count, lifetime_spend)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'en', NULL, NULL, NULL, ?, ?, ?, ?, ?, NULL, ?, ?,"
            " ?, ?, ?, ?)",
            cust,
        )
        db.executemany(
            "INSERT INTO consents (customer_id, channel, granted, at, source) VALUES (?,?,?,?,?)",
            cons,
        )
        db.executemany(
            "INSERT INTO household_members (id, household_id, customer_id, name, relation,"
            " birthday, birthday_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
            members,
        )
        db.executemany(
            "INSERT INTO assets (id, customer_id, member_id, kind, label, model_code,"
            " service_due_on, details) VALUES (?, ?, NULL, ?, ?, ?, ?, ?)",
            [(a[0], a[1], a[2], a[3], a[4], a[5], a[6]) for a in assets],
        )
        db.executemany(
            "INSERT INTO events (id, customer_id, type, occurred_at, location_id, staff_id,"
            " source, external_id, ref_event_id, amount, payload, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            evts,
        )
        counts["events"] += len(evts)
        counts["consents"] += len(cons)
        counts["members"] += len(members)
        counts["assets"] += len(assets)
    db.execute(
        "INSERT INTO events (id, customer_id, type, occurred_at, location_id, staff_id, source,"
        " external_id, ref_event_id, amount, payload, recorded_at) VALUES (?, NULL, 'recall', ?,"
        " 2, NULL, 'bench', 'recall-1', NULL, NULL, ?, ?)",
        (
            next_event,
            ts(YESTERDAY + timedelta(hours=9)),
            json.dumps(
                {
                    "asset_model": "VW-ID4-2023-B",
                    "title": "Brake hose",
                    "status": "open",
                    "severity": "safety",
                }
            ),
            ts(NOW),
        ),
    )
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()
    return counts


def _customer(
    rng: random.Random, cid: int, has_household: bool
) -> tuple[tuple[Any, ...], list[tuple[str, datetime, dict[str, Any], int | None]]]:
    """One customer row (in the insert's column order) and their events that matter today."""
    created = NOW - timedelta(days=rng.randrange(1, 3650), seconds=rng.randrange(86_400))
    birthday = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    count = min(int(rng.expovariate(1 / 6)), 400)
    extra: list[tuple[str, datetime, dict[str, Any], int | None]] = []
    last_purchase = last_visit = None
    if count:
        last_purchase = created + (NOW - created) * rng.random()
        last_visit = last_purchase
    if rng.random() < 0.02:  # bought yesterday
        count += 1
        at = YESTERDAY + timedelta(seconds=rng.randrange(86_400))
        last_purchase = last_visit = at
        amount = int(rng.lognormvariate(7, 1.2))
        line = {"sku": "x", "unit_price": amount}
        extra.append(("purchase", at, {"lines": [line], "channel": "in_store"}, amount))
    # History: a few earlier purchases, the odd note and tier change, so that the per-customer
    # look-ups (recent visits, tier, complaints) read realistic timelines.
    if last_purchase is not None:
        for _ in range(min(count, rng.randrange(3))):
            at = created + (last_purchase - created) * rng.random()
            paid = int(rng.lognormvariate(7, 1.0))
            line = {"sku": "x", "unit_price": paid}
            extra.append(("purchase", at, {"lines": [line], "channel": "in_store"}, paid))
    if rng.random() < 0.1:
        at = created + (NOW - created) * rng.random()
        extra.append(("note", at, {"text": "likes the window seat", "tags": []}, None))
    if rng.random() < 0.1:
        at = created + (NOW - created) * rng.random()
        extra.append(
            ("tier", at, {"change": "up", "tier_to": rng.choice(["silver", "gold"])}, None)
        )
    roll = rng.random()
    at = YESTERDAY + timedelta(seconds=rng.randrange(86_400))
    if roll < 0.002:
        change = rng.choice(["up", "down", "grace", "close_to_next"])
        extra.append(("tier", at, {"change": change, "tier_to": "gold"}, None))
    elif roll < 0.004:
        extra.append(("points_expiring", at, {"points": 300, "expires_on": "2026-05-31"}, None))
    elif roll < 0.005:
        extra.append(("survey_answer", at, {"kind": "nps", "score": rng.randrange(11)}, None))
    elif roll < 0.0055:
        opened = YESTERDAY - timedelta(days=rng.randrange(1, 6))
        ticket = {"ticket_id": f"T{cid}", "status": "opened", "category": "complaint"}
        extra.append(("ticket", opened, ticket, None))
    row = (
        cid,
        f"C{cid:09d}",
        f"First{cid}",
        f"Last{cid}",
        f"c{cid}@example.com" if rng.random() < 0.8 else None,
        f"+3519{cid:08d}" if rng.random() < 0.5 else None,
        birthday.isoformat(),
        birthday.month * 100 + birthday.day,
        "Lisboa",
        "active",
        1 + cid % STAFF,
        1 + cid % 3,
        cid if has_household else None,
        ts(created),
        ts(created),
        ts(last_visit) if last_visit else None,
        ts(last_purchase) if last_purchase else None,
        count,
        count * rng.randrange(500, 20_000),
    )
    return row, extra


def measure(path: Path) -> dict[str, Any]:
    """In this (fresh) process: the bare scan, then the plan; peak RSS is the process's."""
    from regulars.services.planning import plan_day
    from regulars.store.db import make_engine
    from regulars.store.uow import UnitOfWork

    db = sqlite3.connect(path)
    started, cpu = time.perf_counter(), time.process_time()
    rows = 0
    for _ in db.execute("SELECT * FROM customers"):
        rows += 1
    scan_s = time.perf_counter() - started
    scan_cpu = time.process_time() - cpu
    db.close()
    engine = make_engine(f"sqlite:///{path}")
    started, cpu = time.perf_counter(), time.process_time()
    report = plan_day(UnitOfWork(engine), day=DAY, now=NOW)
    plan_s = time.perf_counter() - started
    plan_cpu = time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "plan_s": round(plan_s, 3),
        "peak_rss_mb": round(peak_mb, 1),
        "scan_s": round(scan_s, 3),
        "ratio_to_scan": round(plan_s / scan_s, 2) if scan_s else None,
        "decisions": len(report.lines),
        "counts": report.counts(),
        "tasks": report.tasks,
        "messages": report.messages,
        "scanned_rows": rows,
        "plan_cpu_s": round(plan_cpu, 3),
        "scan_cpu_s": round(scan_cpu, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="Build the database here and keep it.")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(args.measure)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "plan-bench.db"
        started = time.perf_counter()
        counts = build(path, args.customers, args.seed)
        console.print(
            f"built {counts['customers']:,} customers, {counts['events']:,} events, "
            f"{counts['consents']:,} consents, {counts['members']:,} household members, "
            f"{counts['assets']:,} assets in {time.perf_counter() - started:.1f} s"
        )
        child = subprocess.run(
            [sys.executable, __file__, "--measure", str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
        figures = json.loads(child.stdout.strip().splitlines()[-1])
    console.print(
        f"bare scan of customers: {figures['scan_s']:.3f} s ({figures['scanned_rows']:,} rows, "
        f"{figures['scan_cpu_s']:.3f} s CPU)"
    )
    console.print(
        f"plan_day for {DAY.isoformat()}: {figures['plan_s']:.3f} s "
        f"({figures['plan_cpu_s']:.3f} s CPU; the gap is other processes on the machine), "
        f"{figures['decisions']:,} decisions {figures['counts']}, {figures['tasks']:,} tasks, "
        f"{figures['messages']:,} messages; peak RSS {figures['peak_rss_mb']:.0f} MB; "
        f"{figures['ratio_to_scan']} × the scan"
    )
    print(
        json.dumps(
            {
                k: figures[k]
                for k in ("plan_s", "peak_rss_mb", "scan_s", "ratio_to_scan", "decisions")
            }
        )
    )


if __name__ == "__main__":
    main()
