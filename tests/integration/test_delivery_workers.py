"""Four delivery workers at once against PostgreSQL and one SMTP server: each key exactly once.

The workers are real processes (``regulars deliver --once``) sharing the outbox through
``FOR UPDATE SKIP LOCKED`` claims; small passes (``--limit 10``) make them interleave.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from regulars.bootstrap import build
from regulars.channels.base import idempotency_key_for
from regulars.config import Settings
from regulars.store.outbox_tables import outbox, outbox_attempts
from regulars.store.tables import consents, customers
from tests import factories
from tests.delivery_data import queue_tier_up
from tests.delivery_servers import smtp_server

START = datetime.fromisoformat("2026-05-01T10:00:00+00:00")
REGULARS = str(Path(sys.executable).parent / "regulars")
MESSAGES = 120
WORKERS = 4


@pytest.fixture
def migrated_postgres(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database of its own, migrated the way a deployment is (Alembic)."""
    name = f"regulars_workers_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.slow
def test_four_workers_on_postgres_deliver_every_key_exactly_once(
    migrated_postgres: str, tmp_path: Path
) -> None:
    engine = build(Settings(database_url=migrated_postgres)).engine
    location_id = factories.location(engine, START)
    keys = []
    with engine.begin() as conn:
        for n in range(MESSAGES):
            cid = conn.execute(
                insert(customers)
                .values(
                    first_name=f"Member{n}",
                    email=f"m{n}@example.com",
                    home_location_id=location_id,
                    created_at=START,
                    updated_at=START,
                )
                .returning(customers.c.id)
            ).scalar_one()
            conn.execute(
                insert(consents).values(
                    customer_id=cid, channel="email", granted=True, at=START, source="form"
                )
            )
            key = queue_tier_up(conn, cid, START)
            keys.append(key)

    with smtp_server() as (sink, port):
        env = os.environ | {
            "REGULARS_DATABASE_URL": migrated_postgres,
            "REGULARS_SMTP_PORT": str(port),
        }
        workers = []
        for n in range(WORKERS):
            with (tmp_path / f"w{n}.log").open("wb") as log:
                workers.append(
                    subprocess.Popen(
                        [
                            REGULARS,
                            "deliver",
                            "--once",
                            "--now",
                            START.isoformat(),
                            "--worker-id",
                            f"w{n}",
                            "--limit",
                            "10",
                        ],
                        env=env,
                        cwd=tmp_path,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        codes = [w.wait(timeout=120) for w in workers]
        logs = {n: (tmp_path / f"w{n}.log").read_text() for n in range(WORKERS)}
        assert codes == [0] * WORKERS, logs

    assert sink.keys() == Counter({idempotency_key_for(k): 1 for k in keys})
    with engine.connect() as conn:
        statuses = Counter(s for (s,) in conn.execute(select(outbox.c.status)))
        per_worker = dict(
            conn.execute(
                select(outbox_attempts.c.worker_id, func.count())
                .where(outbox_attempts.c.outcome == "sent")
                .group_by(outbox_attempts.c.worker_id)
            ).all()
        )
        attempts_per_row = Counter(
            n
            for (n,) in conn.execute(
                select(func.count())
                .select_from(outbox_attempts)
                .group_by(outbox_attempts.c.outbox_id)
            )
        )
    engine.dispose()
    assert statuses == {"sent": MESSAGES}
    assert sum(per_worker.values()) == MESSAGES
    assert len(per_worker) >= 2, f"the workers shared the queue: {per_worker}"
    assert attempts_per_row == {1: MESSAGES}, "no row was tried twice"
