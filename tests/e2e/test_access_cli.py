"""The access commands: add staff, set passwords, issue and revoke keys, export and erase."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from regulars.cli import app
from regulars.config import get_settings
from regulars.domain.access import CLI
from regulars.services import accounts
from regulars.services.customers import create_customer, create_location
from regulars.store.db import make_engine
from regulars.store.tables import audit_log
from regulars.store.uow import UnitOfWork

NOW = "2026-05-01T09:00:00+01:00"


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("REGULARS_DATABASE_URL", url)
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    engine = make_engine(url)
    now = datetime.fromisoformat(NOW)
    create_location(
        UnitOfWork(engine),
        CLI,
        {"code": "CAFE-LIS", "name": "Lisbon", "timezone": "Europe/Lisbon"},
        now=now,
    )
    create_customer(
        UnitOfWork(engine), CLI, {"first_name": "Angela", "home_location": "CAFE-LIS"}, now=now
    )
    engine.dispose()
    yield url
    get_settings.cache_clear()


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


def test_staff_are_added_with_a_password_and_can_then_sign_in(cli_db: str) -> None:
    code, out = run(
        "staff",
        "add",
        "rita@example.com",
        "--name",
        "Rita",
        "--role",
        "manager",
        "--location",
        "CAFE-LIS",
        "--password",
        "a long enough secret",
        "--now",
        NOW,
    )
    assert code == 0, out
    engine = make_engine(cli_db)
    session = accounts.log_in(
        UnitOfWork(engine),
        "rita@example.com",
        "a long enough secret",
        ip="cli",
        now=datetime.fromisoformat(NOW),
    )
    assert session.session.actor.role == "manager"
    code, out = run("staff", "list")
    assert "rita@example.com" in out


def test_a_short_password_or_unknown_location_is_refused_clearly(cli_db: str) -> None:
    code, out = run(
        "staff",
        "add",
        "bo@example.com",
        "--name",
        "Bo",
        "--location",
        "CAFE-LIS",
        "--password",
        "short",
    )
    assert code == 2
    assert "password" in out
    code, out = run(
        "staff",
        "add",
        "bo@example.com",
        "--name",
        "Bo",
        "--location",
        "NOWHERE",
        "--password",
        "a long enough secret",
    )
    assert code == 2
    assert "NOWHERE" in out


def test_a_password_can_be_piped_and_changed(cli_db: str) -> None:
    code, _ = run(
        "staff",
        "add",
        "bo@example.com",
        "--name",
        "Bo",
        "--location",
        "CAFE-LIS",
        stdin="first long password\n",
    )
    assert code == 0
    code, out = run("staff", "passwd", "bo@example.com", stdin="second long password\n")
    assert code == 0, out
    code, out = run("staff", "passwd", "nobody@example.com", "--password", "whatever long")
    assert code == 2


def test_an_api_key_is_printed_once_listed_without_it_and_revoked(cli_db: str) -> None:
    code, out = run(
        "apikey", "create", "till", "--location", "CAFE-LIS", "--permission", "events:write"
    )
    assert code == 0, out
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("rk_")
    code, listing = run("apikey", "list")
    assert secret not in listing
    assert "events:write" in listing
    engine = make_engine(cli_db)
    now = datetime.fromisoformat(NOW)
    assert accounts.actor_for_api_key(UnitOfWork(engine), secret, now=now) is not None
    code, _ = run("apikey", "revoke", "1")
    assert code == 0
    assert accounts.actor_for_api_key(UnitOfWork(engine), secret, now=now) is None
    code, out = run("apikey", "create", "bad", "--permission", "launch:missiles")
    assert code == 2
    assert "permission" in out


def test_a_customer_is_exported_as_json_and_erased_only_with_yes(
    cli_db: str, tmp_path: Path
) -> None:
    target = tmp_path / "angela.json"
    code, out = run("customer", "export", "1", "--out", str(target))
    assert code == 0, out
    assert json.loads(target.read_text())["profile"]["first_name"] == "Angela"
    code, out = run("customer", "erase", "1")
    assert code == 2
    assert "--yes" in out
    code, out = run("customer", "erase", "1", "--yes")
    assert code == 0, out
    code, out = run("customer", "export", "1")
    assert json.loads(out)["profile"]["first_name"] == "[erased]"


def test_an_export_to_a_folder_that_does_not_exist_stops_before_it_is_audited(
    cli_db: str, tmp_path: Path
) -> None:
    code, out = run("customer", "export", "1", "--out", str(tmp_path / "nowhere" / "a.json"))
    assert code == 2
    assert "cannot write here" in out
    code, out = run("customer", "export", "99", "--out", str(tmp_path / "b.json"))
    assert code == 2
    assert not (tmp_path / "b.json").exists()

    with make_engine(cli_db).connect() as conn:
        exports = conn.scalar(select(func.count()).where(audit_log.c.action == "customer.export"))
    assert exports == 0


def test_a_refused_export_leaves_the_file_already_at_that_path_untouched(
    cli_db: str, tmp_path: Path
) -> None:
    target = tmp_path / "last-week.json"
    target.write_text('{"kept": true}\n', encoding="utf-8")

    code, out = run("customer", "export", "99", "--out", str(target))

    assert code == 2, out
    assert target.read_text(encoding="utf-8") == '{"kept": true}\n'
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_an_impossible_customer_id_is_not_found_not_a_traceback(cli_db: str) -> None:
    code, out = run("customer", "export", str(2**64))

    assert code == 2
    assert "no such customer" in out and "Traceback" not in out
