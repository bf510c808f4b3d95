"""Check-in load benchmark: the real server on loopback, several tills checking cards in at once.

    .venv/bin/python bench/checkin_load.py --customers 5000 --requests 4000 --clients 8

Builds a fresh SQLite file (or a fresh database on ``--postgres SERVER_URL``) with demo-like
data — through the demo generator (``regulars demo --customers N``) when it is installed, else
a location and N customers written in bulk — and issues an API key through the real accounts
service. Then it starts ``uvicorn`` as a subprocess on a free loopback port and lets
``--clients`` threads (each with its own keep-alive ``httpx`` connection, like a till) POST
``/api/v1/check-ins`` by card number until ``--requests`` have been answered, at ``--rate``
check-ins per second on a fixed schedule (an open load: latency counts from when each
check-in was due). Every answer must be a 2xx.

The bar from issue 4: p99 ≤ 20 ms at ≥ 200 requests/s on a 2-core machine.
The last line is JSON: {"p50_ms": …, "p99_ms": …, "rps": …}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from regulars.bootstrap import build
from regulars.config import Settings
from regulars.domain.access import CLI
from regulars.services import accounts
from regulars.services import customers as customer_service
from regulars.store.tables import customers, locations
from regulars.store.uow import UnitOfWork

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- data ------------------------------------------------------------------------------


def seed(url: str, customer_count: int, now: datetime) -> None:
    """Demo data through the demo generator when present, else the bare minimum in bulk."""
    env = os.environ | {"REGULARS_DATABASE_URL": url}
    cli = BIN / "regulars"
    probe = subprocess.run(
        [str(cli), "demo", "--help"], env=env, capture_output=True, text=True, check=False
    )
    if probe.returncode == 0 and "--customers" in probe.stdout:
        log(f"seeding with the demo generator: {customer_count} customers")
        subprocess.run(
            [str(cli), "demo", "--customers", str(customer_count), "--yes"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return
    log(f"demo generator not available; seeding {customer_count} customers in bulk")
    runtime = build(Settings(database_url=url))
    customer_service.create_location(
        runtime.uow(),
        CLI,
        {"code": "CAFE-LIS", "name": "Café Lisboa", "timezone": "Europe/Lisbon", "kind": "cafe"},
        now=now,
    )
    rng = random.Random(7)
    with runtime.engine.begin() as conn:
        location_id = conn.scalar(select(locations.c.id).where(locations.c.code == "CAFE-LIS"))
        rows = []
        for n in range(1, customer_count + 1):
            birthday = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
            rows.append(
                {
                    "id": n,
                    "card_number": f"RG{n:08d}",
                    "first_name": f"Customer{n}",
                    "last_name": "Bench",
                    "birthday": birthday,
                    "birthday_key": birthday.month * 100 + birthday.day,
                    "home_location_id": location_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for start in range(0, len(rows), 1000):
            conn.execute(customers.insert(), rows[start : start + 1000])
    runtime.engine.dispose()


def cards_and_key(url: str, now: datetime) -> tuple[list[tuple[str, str]], str]:
    """(card number, location code) pairs to check in, and a fresh API key's secret."""
    runtime = build(Settings(database_url=url))
    with runtime.engine.connect() as conn:
        rows = conn.execute(
            select(customers.c.card_number, locations.c.code)
            .join(locations, locations.c.id == customers.c.home_location_id)
            .where(customers.c.card_number.is_not(None), customers.c.status == "active")
        ).all()
        total = conn.scalar(select(func.count()).select_from(customers))
    key = accounts.create_api_key(
        UnitOfWork(runtime.engine), CLI, {"name": "checkin bench", "role": "owner"}, now=now
    )
    runtime.engine.dispose()
    log(f"{total} customers, {len(rows)} with a card")
    return [(str(card), str(code)) for card, code in rows], key.secret


@contextlib.contextmanager
def database(postgres: str | None, folder: Path) -> Iterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL database made (and dropped) for this run."""
    if postgres is None:
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    name = f"regulars_bench_{os.getpid()}_{random.randrange(10**6)}"
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- the server ------------------------------------------------------------------------


def asgi_app() -> Any:
    """The uvicorn factory each worker calls: the real app on REGULARS_DATABASE_URL."""
    from regulars.web.app import create_app
    from regulars.web.asgi import ready_to_serve

    return ready_to_serve(create_app(build(migrate=False)))


@contextlib.contextmanager
def server(url: str, port: int, workers: int) -> Iterator[tuple[str, int]]:
    env = os.environ | {"REGULARS_DATABASE_URL": url}
    command = [
        str(BIN / "python"),
        "-m",
        "uvicorn",
        "--app-dir",
        str(Path(__file__).resolve().parent),
        "--factory",
        "checkin_load:asgi_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server exited early with code {process.returncode}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not answer within 60 s")
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


# -- the load --------------------------------------------------------------------------


def run_load(
    base: str,
    secret: str,
    cards: list[tuple[str, str]],
    total: int,
    clients: int,
    warmup: int,
    rate: float,
) -> tuple[list[float], float, dict[int, int]]:
    """Latencies (seconds) of ``total`` check-ins over ``clients`` threads, and their wall time.

    With ``rate`` > 0 the load is open: check-in *i* is due at ``i / rate`` seconds, whether or
    not earlier ones have been answered (tills do not wait for each other), and its latency is
    counted from when it was due, so a server that falls behind shows it in the percentiles.
    With ``rate`` 0 every client sends its next check-in as soon as the last was answered.
    """
    rng = random.Random(11)
    plan = [rng.choice(cards) for _ in range(total + warmup)]
    lock = threading.Lock()
    cursor = {"next": 0}
    timings: list[tuple[float, float]] = []
    statuses: dict[int, int] = {}
    start_gate = threading.Barrier(clients + 1)
    origin = {"t0": 0.0}

    def take() -> tuple[int, tuple[str, str]] | None:
        with lock:
            index = cursor["next"]
            if index >= len(plan):
                return None
            cursor["next"] = index + 1
            return index, plan[index]

    def client() -> None:
        headers = {"Authorization": f"Bearer {secret}"}
        mine: list[tuple[float, float]] = []
        seen: dict[int, int] = {}
        with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
            start_gate.wait()
            while (item := take()) is not None:
                index, (card, location) = item
                due = origin["t0"] + index / rate if rate > 0 else time.perf_counter()
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                response = http.post(
                    "/api/v1/check-ins", json={"card_number": card, "location": location}
                )
                done = time.perf_counter()
                seen[response.status_code] = seen.get(response.status_code, 0) + 1
                if response.status_code >= 300 and len(seen) < 3:
                    log(f"unexpected {response.status_code}: {response.text[:300]}")
                if index >= warmup:
                    mine.append((due, done))
        with lock:
            timings.extend(mine)
            for code, count in seen.items():
                statuses[code] = statuses.get(code, 0) + count

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    origin["t0"] = time.perf_counter() + 0.05
    start_gate.wait()
    for thread in threads:
        thread.join()
    latencies = [done - due for due, done in timings]
    wall = max(done for _, done in timings) - min(due for due, _ in timings)
    return latencies, wall, statuses


# -- profiling -------------------------------------------------------------------------

#: Frames that say which layer a sample was in, first match wins (checked leaf to root).
LAYERS = (
    ("regulars/services/checkin.py", "check-in service (queries + visit write)"),
    ("regulars/services/ingest.py", "check-in service (queries + visit write)"),
    ("regulars/services/accounts.py", "API key lookup"),
    ("regulars/services/idempotency.py", "idempotency keys"),
    ("regulars/web/", "web layer (routing, deps, errors)"),
    ("fastapi/", "FastAPI (validation, serialisation, dependencies)"),
    ("starlette/", "Starlette (request, response, middleware)"),
    ("uvicorn/", "uvicorn (HTTP parsing, event loop)"),
    ("anyio/", "threadpool hand-off (anyio)"),
    ("asyncio/", "event loop"),
)


def start_profiler(pid: int, out: Path) -> subprocess.Popen[bytes]:
    spy = BIN / "py-spy"
    if not spy.exists():
        raise SystemExit("--profile needs py-spy in the virtualenv: .venv/bin/pip install py-spy")
    command = [str(spy), "record", "--pid", str(pid), "--subprocesses", "--format", "raw"]
    command += ["--rate", "250", "--output", str(out), "--nonblocking", "--gil"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # let it attach before the load starts
    return process


def report_profile(process: subprocess.Popen[bytes], out: Path) -> None:
    """Summarise py-spy's collapsed stacks: share of samples per layer and hottest functions."""
    process.send_signal(2)  # SIGINT: py-spy writes its file and exits
    process.wait(timeout=30)
    if not out.exists():
        log("py-spy wrote no profile (is ptrace allowed?)")
        return
    layers: dict[str, int] = {}
    leaves: dict[str, int] = {}
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if any(
            "(idle)" in f or "select (selectors.py" in f or "wait (threading.py" in f
            for f in frames[-2:]
        ):
            continue
        total += count
        layer = "other"
        for frame in reversed(frames):
            hit = next((name for marker, name in LAYERS if marker in frame), None)
            if hit:
                layer = hit
                break
        layers[layer] = layers.get(layer, 0) + count
        leaf = frames[-1]
        leaves[leaf] = leaves.get(leaf, 0) + count
    if not total:
        log("py-spy saw no busy samples")
        return
    log(f"py-spy: {total} busy samples in the server; by layer (innermost project frame):")
    for name, count in sorted(layers.items(), key=lambda kv: -kv[1]):
        log(f"  {count * 100 / total:5.1f} %  {name}")
    log("hottest functions (own time):")
    for name, count in sorted(leaves.items(), key=lambda kv: -kv[1])[:12]:
        log(f"  {count * 100 / total:5.1f} %  {name}")


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and its children (Linux /proc; 0 elsewhere)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        stat = Path(f"/proc/{one}/stat")
        if not stat.exists():
            continue
        fields = stat.read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument(
        "--rate",
        type=float,
        default=200.0,
        help="check-ins per second offered, spread over the clients (open load); "
        "0: each client sends as fast as it is answered",
    )
    parser.add_argument(
        "--postgres",
        default=None,
        metavar="SERVER_URL",
        help="run on PostgreSQL: a database of the bench's own is made on this server "
        "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) and dropped afterwards; "
        "default: a fresh SQLite file",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the server with py-spy during the load and print where the time goes",
    )
    args = parser.parse_args(argv)

    now = datetime.now(UTC)
    with (
        tempfile.TemporaryDirectory(prefix="regulars-bench-") as tmp,
        database(args.postgres, Path(tmp)) as url,
    ):
        seed_started = time.perf_counter()
        seed(url, args.customers, now)
        cards, secret = cards_and_key(url, now)
        log(f"seeded in {time.perf_counter() - seed_started:.1f} s")
        if not cards:
            raise SystemExit("no customer has a card number to check in")
        with server(url, free_port(), args.workers) as (base, pid):
            profiler = start_profiler(pid, Path(tmp) / "profile.txt") if args.profile else None
            server_cpu = cpu_seconds(pid)
            client_cpu = time.process_time()
            latencies, wall, statuses = run_load(
                base, secret, cards, args.requests, args.clients, args.warmup, args.rate
            )
            server_cpu = cpu_seconds(pid) - server_cpu
            client_cpu = time.process_time() - client_cpu
            if profiler is not None:
                report_profile(profiler, Path(tmp) / "profile.txt")
    ok = sum(count for code, count in statuses.items() if 200 <= code < 300)
    p50 = percentile(latencies, 0.50) * 1000
    p90 = percentile(latencies, 0.90) * 1000
    p99 = percentile(latencies, 0.99) * 1000
    rps = len(latencies) / wall if wall else 0.0
    offered = f"offered {args.rate:.0f}/s" if args.rate > 0 else "closed loop"
    log(
        f"{len(latencies)} check-ins by {args.clients} clients ({offered}), "
        f"{args.workers} worker(s): "
        f"{rps:.0f} req/s; p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms, mean {statistics.fmean(latencies) * 1000:.1f} ms"
    )
    served = args.requests + args.warmup
    log(
        f"CPU per check-in: server {server_cpu * 1000 / served:.2f} ms, "
        f"load clients {client_cpu * 1000 / served:.2f} ms "
        f"(machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    log(f"status codes: {dict(sorted(statuses.items()))}")
    bar = "met" if p99 <= 20 and rps >= 200 else "MISSED"
    log(f"bar p99 ≤ 20 ms at ≥ 200 req/s: {bar}")
    if ok != sum(statuses.values()):
        raise SystemExit(f"only {ok} of {sum(statuses.values())} check-ins succeeded")
    result = {"p50_ms": round(p50, 2), "p99_ms": round(p99, 2), "rps": round(rps, 1)}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
