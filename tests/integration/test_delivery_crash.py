"""Killing the delivery worker mid-batch and starting it again: nothing lost, nothing twice.

Real processes (``regulars deliver --once``), a real SQLite file, a real SMTP server. The
worker is killed with SIGKILL, so it gets no chance to tidy up: its claimed rows stay
``sending`` until their lease runs out, and the next worker takes them over.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from regulars.bootstrap import build
from regulars.channels.base import idempotency_key_for
from regulars.config import Settings
from regulars.store.outbox_tables import outbox, outbox_attempts
from regulars.store.tables import events
from tests import factories
from tests.delivery_data import email_member, queue_tier_up
from tests.delivery_servers import SmtpSink, smtp_server

START = datetime.fromisoformat("2026-05-01T10:00:00+00:00")
REGULARS = str(Path(sys.executable).parent / "regulars")


def _business(tmp_path: Path, customers: int) -> tuple[Engine, str, list[str]]:
    """A migrated SQLite file with one shop, its members and one queued e-mail each."""
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    engine = build(Settings(database_url=url)).engine
    factories.location(engine, START, name="Café Lisboa")
    keys = []
    for n in range(customers):
        cid = email_member(engine, START, email=f"m{n}@example.com", first_name=f"Member{n}")
        with engine.begin() as conn:
            key = queue_tier_up(conn, cid, START)
        keys.append(key)
    return engine, url, keys


def _worker(url: str, port: int, at: datetime, name: str, cwd: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "REGULARS_DATABASE_URL": url,
        "REGULARS_SMTP_PORT": str(port),
        "REGULARS_OUTBOX_LEASE_S": "120",
    }
    command = [REGULARS, "deliver", "--once", "--now", at.isoformat(), "--worker-id", name]
    with (cwd / f"{name}.log").open("wb") as log:  # the child keeps its own copy of the fd
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)


def _output(cwd: Path, name: str) -> str:
    return (cwd / f"{name}.log").read_text()


def _kill(process: subprocess.Popen[bytes] | None) -> None:
    assert process is not None
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    engine, url, keys = _business(tmp_path, customers=25)
    running: list[subprocess.Popen[bytes]] = []

    def kill_before_the_twelfth(accepted: int) -> bool:
        if accepted == 11 and running and running[0].poll() is None:
            _kill(running[0])  # dies while handing over message 12: never accepted
            return False
        return True

    with smtp_server(SmtpSink(before_data=kill_before_the_twelfth)) as (sink, port):
        running.append(_worker(url, port, START, "first", tmp_path))
        assert running[0].wait(timeout=60) == -signal.SIGKILL
        assert len(sink.received) == 11

        # Before the lease runs out nobody touches the dead worker's rows …
        early = _worker(url, port, START + timedelta(seconds=30), "early", tmp_path)
        assert early.wait(timeout=60) == 0, _output(tmp_path, "early")
        # … after it, the restarted worker takes them over and finishes the batch.
        second = _worker(url, port, START + timedelta(minutes=3), "second", tmp_path)
        assert second.wait(timeout=60) == 0, _output(tmp_path, "second")

    delivered = sink.keys()
    assert delivered == Counter({idempotency_key_for(k): 1 for k in keys}), "each key once"
    with engine.connect() as conn:
        statuses = Counter(s for (s,) in conn.execute(select(outbox.c.status)))
        taken_over = conn.scalar(
            select(func.count()).where(outbox_attempts.c.outcome == "lease_expired")
        )
        sent_events = conn.scalar(
            select(func.count()).where(events.c.type == "message", events.c.source == "outbox")
        )
    assert statuses == {"sent": 25}
    assert taken_over and taken_over >= 1
    assert sent_events == 25


@pytest.mark.slow
def test_a_kill_after_the_server_accepted_resends_with_the_same_message_id(
    tmp_path: Path,
) -> None:
    """The window no outbox can close: accepted by the server, not yet recorded by us.

    The message goes again after the lease (at-least-once), carrying the same Message-ID,
    so the receiving side can recognise and drop the repeat. Nothing is lost.
    """
    engine, url, keys = _business(tmp_path, customers=6)
    running: list[subprocess.Popen[bytes]] = []

    def kill_after_the_third(accepted: int) -> None:
        if accepted == 3 and running and running[0].poll() is None:
            _kill(running[0])

    with smtp_server(SmtpSink(after_data=kill_after_the_third)) as (sink, port):
        running.append(_worker(url, port, START, "first", tmp_path))
        assert running[0].wait(timeout=60) == -signal.SIGKILL
        second = _worker(url, port, START + timedelta(minutes=3), "second", tmp_path)
        assert second.wait(timeout=60) == 0, _output(tmp_path, "second")

    delivered = sink.keys()
    assert set(delivered) == {idempotency_key_for(k) for k in keys}, "nothing lost"
    repeats = {key: n for key, n in delivered.items() if n > 1}
    assert len(repeats) <= 1, "only the message in the window can repeat"
    for key in repeats:
        ids = {r.message["Message-ID"] for r in sink.received if r.key == key}
        assert len(ids) == 1, "a repeat carries the same Message-ID"
    with engine.connect() as conn:
        assert Counter(s for (s,) in conn.execute(select(outbox.c.status))) == {"sent": 6}
