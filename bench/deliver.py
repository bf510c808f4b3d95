"""Delivery benchmark: the outbox worker sending e-mail to a real local SMTP server.

    .venv/bin/python bench/deliver.py --messages 2000 --workers 2

Builds a fresh SQLite file (or uses ``--database-url``, e.g. a PostgreSQL database), queues
``--messages`` e-mails through ``enqueue_message`` (one customer each), starts an aiosmtpd
server on a free loopback port and runs ``--workers`` real ``regulars deliver --once``
processes at once. It checks every message arrived exactly once and prints the figures; the
last line is JSON: {"messages": …, "workers": …, "seconds": …, "per_second": …}.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import insert

from regulars.bootstrap import build
from regulars.config import Settings
from regulars.services.outbox import enqueue_message
from regulars.store.tables import consents, customers, locations

AT = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


class Sink:
    def __init__(self) -> None:
        self.keys: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        key = str(message_from_bytes(envelope.content)["X-Regulars-Key"])
        with self.lock:
            self.keys[key] += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def prepare(url: str, count: int) -> None:
    engine = build(Settings(database_url=url)).engine
    with engine.begin() as conn:
        location_id = conn.execute(
            insert(locations)
            .values(code="BENCH", name="Bench café", timezone="Europe/Lisbon")
            .returning(locations.c.id)
        ).scalar_one()
        for n in range(count):
            cid = conn.execute(
                insert(customers)
                .values(
                    first_name=f"Member{n}",
                    email=f"m{n}@example.com",
                    home_location_id=location_id,
                    created_at=AT,
                    updated_at=AT,
                )
                .returning(customers.c.id)
            ).scalar_one()
            conn.execute(
                insert(consents).values(
                    customer_id=cid, channel="email", granted=True, at=AT, source="bench"
                )
            )
            enqueue_message(
                conn,
                key=f"tier_up:{cid}",
                customer_id=cid,
                channel="email",
                moment="tier_up",
                template="tier_up",
                context={"tier": "Gold"},
                send_after=AT,
                decision_id=None,
            )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="regulars-deliver-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    started = time.perf_counter()
    prepare(url, args.messages)
    print(f"queued {args.messages} messages in {time.perf_counter() - started:.1f} s")

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    regulars = str(Path(sys.executable).parent / "regulars")
    env = os.environ | {"REGULARS_DATABASE_URL": url, "REGULARS_SMTP_PORT": str(port)}
    try:
        started = time.perf_counter()
        workers = [
            subprocess.Popen(
                [
                    regulars,
                    "deliver",
                    "--once",
                    "--now",
                    AT.isoformat(),
                    "--worker-id",
                    f"bench-{n}",
                    "--limit",
                    "200",
                    "--json",
                ],
                env=env,
                cwd=folder,
                stdout=subprocess.DEVNULL,
            )
            for n in range(args.workers)
        ]
        codes = [w.wait() for w in workers]
        seconds = time.perf_counter() - started
    finally:
        controller.stop()
    if codes != [0] * args.workers:
        raise SystemExit(f"a worker failed: exit codes {codes}")
    twice = [k for k, n in sink.keys.items() if n > 1]
    if len(sink.keys) != args.messages or twice:
        raise SystemExit(f"delivered {len(sink.keys)} of {args.messages}; twice: {len(twice)}")
    rate = args.messages / seconds
    print(
        f"{args.workers} workers sent {args.messages} e-mails in {seconds:.2f} s "
        f"({rate:.0f}/s), each exactly once"
    )
    print(
        json.dumps(
            {
                "messages": args.messages,
                "workers": args.workers,
                "seconds": round(seconds, 3),
                "per_second": round(rate, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
