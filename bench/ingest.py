"""Ingest benchmark: purchases through the real ingest service vs a raw bulk insert.

    .venv/bin/python bench/ingest.py --events 200000

Builds a fresh SQLite file with a few thousand customers and the café chain's loyalty program
in force, ingests N purchase events through ``ingest_events`` in batches (validation,
duplicate check, customer facts, auto-enrolment, earning, tier evaluation), then,
in the same run, inserts the same rows straight into a bare table with the same unique key:
the physical limit of this machine and SQLite. The last line is JSON.
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

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from regulars.bootstrap import build
from regulars.config import Settings
from regulars.domain.access import CLI
from regulars.services.ingest import ingest_events
from regulars.services.loyalty import load_program_file
from regulars.store.tables import customers, locations

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

    events_per_s = args.events / service_s
    raw_per_s = args.events / raw_s
    ratio = events_per_s / raw_per_s
    table = Table(title=f"Ingest of {args.events:,} purchases (batches of {args.batch:,})")
    table.add_column("path")
    table.add_column("seconds", justify="right")
    table.add_column("rows/s", justify="right")
    table.add_row("ingest_events (service)", f"{service_s:.2f}", f"{events_per_s:,.0f}")
    table.add_row("raw executemany (limit)", f"{raw_s:.2f}", f"{raw_per_s:,.0f}")
    table.add_row("ratio", "", f"{ratio:.2f}")
    Console().print(table)
    print(
        json.dumps(
            {
                "events_per_s": round(events_per_s),
                "raw_rows_per_s": round(raw_per_s),
                "ratio": round(ratio, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
