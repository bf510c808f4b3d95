"""Loyalty benchmarks: ingest with the café program in force, and the simulator's replay.

    .venv/bin/python bench/loyalty.py ingest --events 20000
    .venv/bin/python bench/loyalty.py simulate --events 1000000
    .venv/bin/python bench/loyalty.py cpu --events 30000

``ingest`` runs the lead's ingest benchmark (same events, same raw-insert comparison) with
the demo café program loaded, so every purchase enrols, earns and may promote. ``simulate``
writes N purchases (and a few returns) straight into a fresh SQLite file, then times
``regulars simulate``'s replay of them under the café program against a baseline. The last
line is JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import ingest as base
from regulars.bootstrap import build
from regulars.config import Settings
from regulars.domain.access import CLI
from regulars.domain.program import load_program
from regulars.insight.simulator import simulate
from regulars.services.loyalty import load_program_file
from regulars.store.tables import customers, locations

PROGRAMS = Path(__file__).parent.parent / "src" / "regulars" / "demo" / "programs"


def bench_ingest(events: int, customers_n: int, batch: int) -> dict[str, float]:
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    cafe = (PROGRAMS / "cafe.yaml").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db")
        runtime = base.seed_business(settings, customers_n, now)
        load_program_file(runtime.uow(), CLI, cafe, now=now - timedelta(days=800))
        batch_events = base.make_events(events, customers_n, 7)
        service_s = base.run_service(runtime, batch_events, batch, now)
        runtime.engine.dispose()
        raw_s = base.run_raw(Path(tmp) / "raw.db", batch_events, batch)
    return {
        "events_per_s": round(events / service_s),
        "raw_rows_per_s": round(events / raw_s),
        "ratio": round(raw_s / service_s, 3),
    }


def bench_cpu(events: int, warm: int, customers_n: int, batch: int) -> dict[str, float]:
    from regulars.services import ingest as ingest_service

    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    spent = [0.0]
    names = vars(ingest_service)  # ingest calls loyalty through its own imported name
    apply = names["apply_ingested"]

    def timed(*args: Any, **kwargs: Any) -> None:
        started = time.process_time()
        try:
            apply(*args, **kwargs)
        finally:
            spent[0] += time.process_time() - started

    names["apply_ingested"] = timed
    try:
        with tempfile.TemporaryDirectory() as tmp:
            runtime = base.seed_business(
                Settings(database_url=f"sqlite:///{tmp}/bench.db"), customers_n, now
            )
            batch_events = base.make_events(warm + events, customers_n, 7)
            for start in range(0, warm, batch):
                ingest_service.ingest_events(
                    runtime.uow(), batch_events[start : start + batch], now=now
                )
            spent[0] = 0.0
            cpu = time.process_time()
            for start in range(warm, warm + events, batch):
                ingest_service.ingest_events(
                    runtime.uow(), batch_events[start : start + batch], now=now
                )
            cpu = time.process_time() - cpu
            runtime.engine.dispose()
    finally:
        names["apply_ingested"] = apply
    return {
        "ingest_us_per_event": round(cpu / events * 1e6, 1),
        "loyalty_us_per_event": round(spent[0] / events * 1e6, 1),
        "events_per_cpu_s": round(events / cpu),
    }


def bench_simulate(events: int, customers_n: int) -> dict[str, float]:
    rng = random.Random(11)
    start = datetime(2025, 1, 1, 7, tzinfo=UTC)
    step = 365 * 86400 / events
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/sim.db"
        runtime = build(Settings(database_url=f"sqlite:///{path}"))
        with runtime.engine.begin() as conn:
            conn.execute(
                locations.insert().values(
                    id=1,
                    code="CAFE-LIS",
                    name="Café",
                    brand="Café Regulars",
                    timezone="Europe/Lisbon",
                )
            )
            conn.execute(
                customers.insert(),
                [
                    {"id": i, "first_name": f"C{i}", "created_at": start, "updated_at": start}
                    for i in range(1, customers_n + 1)
                ],
            )
        runtime.engine.dispose()
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("BEGIN")
        rows = []
        for n in range(events):
            at = (start + timedelta(seconds=n * step)).replace(tzinfo=None)
            lines = [
                {"sku": sku, "category": cat, "unit_price": price, "quantity": 1}
                for sku, cat, price in rng.sample(base.SKUS, rng.randint(1, 3))
            ]
            kind = "purchase"
            payload: dict[str, object] = {"lines": lines, "channel": "in_store", "currency": "EUR"}
            ref = None
            if n > 10 and rng.random() < 0.02:
                kind, ref = "return", n - 5
                payload = {"purchase_external_id": f"e{ref}", "lines": [], "refund": 200}
            rows.append(
                (
                    n + 1,
                    rng.randint(1, customers_n),
                    kind,
                    at.isoformat(" "),
                    1,
                    "pos",
                    f"e{n}",
                    ref,
                    json.dumps(payload),
                    at.isoformat(" "),
                )
            )
            if len(rows) == 50_000:
                db.executemany(
                    "INSERT INTO events (id, customer_id, type, occurred_at, "
                    "location_id, source, external_id, ref_event_id, payload, "
                    "recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )
                rows = []
        if rows:
            db.executemany(
                "INSERT INTO events (id, customer_id, type, occurred_at, "
                "location_id, source, external_id, ref_event_id, payload, "
                "recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
        db.execute("COMMIT")
        db.close()
        runtime = build(Settings(database_url=f"sqlite:///{path}"), migrate=False)
        proposed = load_program((PROGRAMS / "cafe.yaml").read_text())
        baseline = load_program(
            (PROGRAMS / "cafe.yaml").read_text().replace("    retail: 200", "    retail: 100")
        )
        started = time.perf_counter()
        cpu = time.process_time()
        result = simulate(
            runtime.uow(readonly=True),
            proposed,
            baseline=baseline,
            start=date(2025, 1, 1),
            end=date(2025, 12, 31),
        )
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        runtime.engine.dispose()
    return {
        "events": result.events,
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),  # what the replay costs on an idle core
        "events_per_s": round(result.events / elapsed),
        "points_issued": result.proposed.issued,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["ingest", "simulate", "cpu"])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--warm", type=int, default=20_000, help="cpu: events ingested first")
    args = parser.parse_args()
    if args.what == "ingest":
        print(json.dumps(bench_ingest(args.events, args.customers, args.batch)))
    elif args.what == "cpu":
        print(json.dumps(bench_cpu(args.events, args.warm, args.customers, args.batch)))
    else:
        print(json.dumps(bench_simulate(args.events, args.customers)))


if __name__ == "__main__":
    main()
