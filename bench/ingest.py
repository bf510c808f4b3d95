"""Ingest benchmark: purchases through the real ingest service vs a raw bulk insert.

    .venv/bin/python bench/ingest.py --events 200000

Builds a fresh SQLite file with a few thousand customers and the café chain's loyalty program
in force, ingests N purchase events through ``ingest_events`` in batches (validation,
duplicate check, customer facts, auto-enrolment, earning, tier evaluation), then,
in the same run, inserts the same rows straight into a bare table with the same unique key:
the physical limit of this machine and SQLite. It also copies the two rows every earning
purchase must write (its event and its ledger entry, exactly as the service wrote them)
into a fresh database with the real schema, every index and foreign key in place: the
limit of the schema itself, with no Python but the driver's. And it times the rules
alone: validating each purchase and working out its points, with no database at all. The
last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from regulars.bootstrap import build
from regulars.config import Settings
from regulars.domain.access import CLI
from regulars.domain.earning import MemberEarning, Rates, earn_purchase
from regulars.domain.events import Purchase, parse_event
from regulars.domain.program import load_program
from regulars.services.ingest import ingest_events
from regulars.services.loyalty import load_program_file
from regulars.store.loyalty_tables import loyalty_ledger, loyalty_members
from regulars.store.tables import customers, events, locations

console = Console(stderr=True)
PROGRAM = Path(__file__).parent.parent / "src/regulars/demo/programs/cafe.yaml"
SKUS = [
    ("latte", "drinks", 350),
    ("croissant", "food", 220),
    ("beans-1kg", "retail", 1890),
    ("tea", "drinks", 300),
    ("cake", "food", 410),
]


def make_events(count: int, customer_count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, 8, tzinfo=UTC)
    out: list[dict[str, Any]] = []
    for n in range(count):
        lines = []
        for _ in range(rng.randint(1, 3)):
            sku, category, price = rng.choice(SKUS)
            lines.append(
                {
                    "sku": sku,
                    "category": category,
                    "unit_price": price,
                    "quantity": rng.randint(1, 2),
                }
            )
        out.append(
            {
                "type": "purchase",
                "source": "pos",
                "external_id": f"bench-{n}",
                "occurred_at": (start + timedelta(seconds=n * 37)).isoformat(),
                "customer_id": rng.randint(1, customer_count),
                "location": "CAFE-LIS",
                "lines": lines,
            }
        )
    return out


def seed_business(settings: Settings, customer_count: int, now: datetime) -> Any:
    """Customers at one café, and the café chain's real loyalty program in force."""
    runtime = build(settings)
    with runtime.engine.begin() as conn:
        conn.execute(
            locations.insert().values(
                id=1,
                code="CAFE-LIS",
                name="Café Lisboa",
                brand="Café Regulars",
                timezone="Europe/Lisbon",
            )
        )
        conn.execute(
            customers.insert(),
            [
                {
                    "id": i,
                    "card_number": f"C{i:08d}",
                    "first_name": f"Customer {i}",
                    "created_at": now,
                    "updated_at": now,
                    "home_location_id": 1,
                }
                for i in range(1, customer_count + 1)
            ],
        )
    load_program_file(runtime.uow(), CLI, PROGRAM.read_text(encoding="utf-8"), now=now)
    return runtime


def run_service(
    runtime: Any, batch_events: list[dict[str, Any]], batch: int, now: datetime
) -> float:
    started = time.perf_counter()
    created = 0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("ingest_events", total=len(batch_events))
        for start in range(0, len(batch_events), batch):
            part = batch_events[start : start + batch]
            report = ingest_events(runtime.uow(), part, now=now)
            created += report.created
            progress.advance(task, len(part))
    elapsed = time.perf_counter() - started
    if created != len(batch_events):
        sys.exit(f"expected {len(batch_events)} created, got {created}")
    return elapsed


def run_raw(path: Path, batch_events: list[dict[str, Any]], batch: int) -> float:
    """The same rows, prepared in advance, into a bare table with the same unique key."""
    rows = [
        (
            n + 1,
            e["customer_id"],
            e["type"],
            e["occurred_at"],
            1,
            e["source"],
            e["external_id"],
            json.dumps({"lines": e["lines"]}),
            e["occurred_at"],
        )
        for n, e in enumerate(batch_events)
    ]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE raw_events (id INTEGER PRIMARY KEY, customer_id INTEGER, type TEXT, "
        "occurred_at TEXT, location_id INTEGER, source TEXT, external_id TEXT, payload TEXT, "
        "recorded_at TEXT, UNIQUE (source, external_id))"
    )
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO raw_events VALUES (?,?,?,?,?,?,?,?,?)", rows[start : start + batch]
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def run_schema_limit(service_db: Path, schema_db: Path, batch: int) -> tuple[float, int]:
    """The service's own event and ledger rows, re-inserted into a fresh real schema.

    Customers and members are copied first (untimed: the foreign keys need them); then, a
    transaction per batch, each batch's events and the ledger entries that came from them.
    """
    settings = Settings(database_url=f"sqlite:///{schema_db}")
    build(settings).engine.dispose()
    source = sqlite3.connect(service_db)
    target = sqlite3.connect(schema_db, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        target.execute(f"PRAGMA {pragma}")

    def copy(table: Any, where: str = "") -> list[tuple[Any, ...]]:
        names = [c.name for c in table.columns]
        query = f"SELECT {', '.join(names)} FROM {table.name} {where} ORDER BY id"
        return source.execute(query).fetchall()

    def insert_sql(table: Any) -> str:
        names = [c.name for c in table.columns]
        marks = ", ".join("?" * len(names))
        return f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"

    target.execute("BEGIN")
    for table in (locations, customers, loyalty_members):
        target.executemany(insert_sql(table), copy(table))
    target.execute("COMMIT")
    event_rows = copy(events)
    ledger_rows = copy(loyalty_ledger, "WHERE event_id IS NOT NULL")
    event_index = events.columns.keys().index("id")
    ledger_event = loyalty_ledger.columns.keys().index("event_id")
    by_event: dict[int, list[tuple[Any, ...]]] = {}
    for row in ledger_rows:
        by_event.setdefault(row[ledger_event], []).append(row)
    batches = []
    for start in range(0, len(event_rows), batch):
        part = event_rows[start : start + batch]
        entries = [e for row in part for e in by_event.get(row[event_index], ())]
        batches.append((part, entries))
    events_sql, ledger_sql = insert_sql(events), insert_sql(loyalty_ledger)
    started = time.perf_counter()
    for part, entries in batches:
        target.execute("BEGIN IMMEDIATE")
        target.executemany(events_sql, part)
        target.executemany(ledger_sql, entries)
        target.execute("COMMIT")
    elapsed = time.perf_counter() - started
    source.close()
    target.close()
    return elapsed, len(ledger_rows)


def run_rules_only(batch_events: list[dict[str, Any]]) -> float:
    """Validation and earning for every purchase, in Python, with nothing stored."""
    program = load_program(PROGRAM.read_text(encoding="utf-8"))
    rates = Rates.of(program)
    zone = ZoneInfo(program.timezone)
    members: dict[int, MemberEarning] = {}
    started = time.perf_counter()
    for raw in batch_events:
        event = parse_event(raw)
        if not isinstance(event, Purchase) or event.customer_id is None:
            sys.exit(f"the benchmark made an invalid purchase: {event}")
        member = members.get(event.customer_id)
        if member is None:
            member = members[event.customer_id] = MemberEarning()
        earn_purchase(
            rates,
            member,
            [(line.category, line.net) for line in event.lines],
            source=event.source,
            local_day=event.occurred_at.astimezone(zone).date(),
            tier_index=0,
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db")
        runtime = seed_business(settings, args.customers, now)
        batch_events = make_events(args.events, args.customers, args.seed)
        service_s = run_service(runtime, batch_events, args.batch, now)
        runtime.engine.dispose()
        raw_s = run_raw(Path(tmp) / "raw.db", batch_events, args.batch)
        rules_s = run_rules_only(batch_events)
        schema_s, entries = run_schema_limit(
            Path(tmp) / "bench.db", Path(tmp) / "schema.db", args.batch
        )

    events_per_s = args.events / service_s
    raw_per_s = args.events / raw_s
    ratio = events_per_s / raw_per_s
    schema_per_s = args.events / schema_s
    rules_per_s = args.events / rules_s
    table = Table(title=f"Ingest of {args.events:,} purchases (batches of {args.batch:,})")
    table.add_column("path")
    table.add_column("seconds", justify="right")
    table.add_column("rows/s", justify="right")
    table.add_row("ingest_events (service)", f"{service_s:.2f}", f"{events_per_s:,.0f}")
    table.add_row("raw executemany (limit)", f"{raw_s:.2f}", f"{raw_per_s:,.0f}")
    table.add_row(
        f"event + ledger rows into the real schema ({entries:,} entries)",
        f"{schema_s:.2f}",
        f"{schema_per_s:,.0f}",
    )
    table.add_row(
        "validation and earning alone (no database)", f"{rules_s:.2f}", f"{rules_per_s:,.0f}"
    )
    table.add_row("ratio (service / raw)", "", f"{ratio:.2f}")
    table.add_row("ratio (service / real schema)", "", f"{events_per_s / schema_per_s:.2f}")
    table.add_row("ratio (real schema / raw)", "", f"{schema_per_s / raw_per_s:.2f}")
    table.add_row("ratio (rules alone / raw)", "", f"{rules_per_s / raw_per_s:.2f}")
    Console().print(table)
    print(
        json.dumps(
            {
                "events_per_s": round(events_per_s),
                "raw_rows_per_s": round(raw_per_s),
                "ratio": round(ratio, 3),
                "schema_limit_events_per_s": round(schema_per_s),
                "rules_alone_events_per_s": round(rules_per_s),
            }
        )
    )


if __name__ == "__main__":
    main()
