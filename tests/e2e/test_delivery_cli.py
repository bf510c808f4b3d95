"""``regulars deliver`` and ``regulars serve`` as a person runs them, in real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from regulars.bootstrap import build
from regulars.config import Settings
from tests import factories
from tests.delivery_data import email_member, member_with_message, queue_tier_up
from tests.delivery_servers import free_port, smtp_server

REGULARS = str(Path(sys.executable).parent / "regulars")
AT = datetime.fromisoformat("2026-05-01T10:00:00+00:00")


def _env(url: str, **extra: str) -> dict[str, str]:
    return os.environ | {"REGULARS_DATABASE_URL": url} | extra


def test_deliver_once_sends_what_is_due_and_reports_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = build(Settings(database_url=url)).engine
    factories.location(engine, AT)
    member_with_message(engine, AT)
    with smtp_server() as (sink, port):
        done = subprocess.run(
            [REGULARS, "deliver", "--once", "--json", "--now", AT.isoformat()],
            env=_env(url, REGULARS_SMTP_PORT=str(port)),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    totals = json.loads(done.stdout)
    assert totals["sent"] == 1 and totals["claimed"] == 1
    assert [r.rcpt_tos for r in sink.received] == [["ana@example.com"]]


def test_deliver_refuses_a_now_without_a_time_zone(tmp_path: Path) -> None:
    done = subprocess.run(
        [REGULARS, "deliver", "--once", "--now", "2026-05-01T10:00:00"],
        env=_env(f"sqlite:///{tmp_path / 'cli.db'}"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "time zone offset" in done.stderr


@pytest.mark.slow
def test_serve_prints_its_url_and_answers_until_stopped(tmp_path: Path) -> None:
    port = free_port()
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [REGULARS, "serve", "--port", str(port)],
            env=_env(url, REGULARS_OUTBOX_POLL_S="1"),
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        answer = None
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert answer is not None and answer.status_code == 200, log_path.read_text()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    output = log_path.read_text()
    assert f"http://127.0.0.1:{port}/console/" in output
    assert "regulars demo" in output  # the hint where the demo logins come from
    assert "Scheduler:" in output


@pytest.mark.slow
def test_a_running_worker_picks_up_new_messages_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'loop.db'}"
    engine = build(Settings(database_url=url)).engine
    factories.location(engine, AT)
    ana = email_member(engine, AT)
    log_path = tmp_path / "worker.log"
    with smtp_server() as (sink, port):
        with log_path.open("wb") as log:
            worker = subprocess.Popen(
                [REGULARS, "deliver", "--worker-id", "loop"],
                env=_env(url, REGULARS_SMTP_PORT=str(port), REGULARS_OUTBOX_POLL_S="0.3"),
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            time.sleep(1)  # the worker is idle, looking every 0.3 s
            with engine.begin() as conn:
                queue_tier_up(conn, ana, AT, "tier:ana")
            deadline = time.monotonic() + 30
            while not sink.received and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            worker.send_signal(signal.SIGTERM)
            code = worker.wait(timeout=30)
    assert len(sink.received) == 1, log_path.read_text()
    assert code == 0
    assert "[loop] done: 1 claimed, 1 sent" in log_path.read_text()


def test_outbox_list_shows_failures_and_retry_queues_them_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    engine = build(Settings(database_url=url)).engine
    factories.location(engine, AT)
    member_with_message(engine, AT)
    env = _env(url, REGULARS_SMTP_PORT=str(free_port()), REGULARS_OUTBOX_MAX_ATTEMPTS="1")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [REGULARS, *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert run("deliver", "--once", "--now", AT.isoformat()).returncode == 0  # nobody listens
    listed = run("outbox", "list", "--status", "dead", "--json")
    assert listed.returncode == 0, listed.stderr
    report = json.loads(listed.stdout)
    assert report["counts"] == {"dead": 1}
    assert report["messages"][0]["key"] == "tier:ana"
    assert "connection" in report["messages"][0]["last_error"].lower()
    shown = run("outbox", "show", "tier:ana")
    assert shown.returncode == 0 and "dead after 1 tries" in shown.stdout
    assert run("outbox", "retry", "tier:ana").returncode == 0
    assert json.loads(run("outbox", "list", "--json").stdout)["counts"] == {"queued": 1}
    again = run("outbox", "retry", "tier:ana")
    assert again.returncode != 0 and "only failed or dead" in again.stderr
    assert run("outbox", "list", "--status", "lost").returncode != 0
