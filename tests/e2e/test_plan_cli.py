"""``regulars plan``, ``tasks``, ``brief``, ``outcome`` and ``playbook`` as a person runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from regulars.bootstrap import build
from regulars.config import Settings
from tests import factories

REGULARS = str(Path(sys.executable).parent / "regulars")
SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
NOW = ["--now", "2026-05-01T05:00:00+00:00"]


def _run(url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REGULARS, *args],
        env=os.environ | {"REGULARS_DATABASE_URL": url, "COLUMNS": "200"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_dry_run_then_the_plan_then_the_call_and_its_outcome(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = build(Settings(database_url=url)).engine
    factories.location(engine, SIX, code="DEAL-POR", kind="dealership")
    rui = factories.staff(
        engine,
        SIX,
        email="rui@example.com",
        name="Rui",
        locations=["DEAL-POR"],
        daily_call_capacity=4,
    )
    factories.customer(
        engine,
        SIX,
        first_name="João",
        phone="+351912345678",
        birthday="1962-05-01",
        home_location="DEAL-POR",
        owner_staff_id=rui,
    )

    dry = _run(url, tmp_path, "plan", "--date", "2026-05-01", "--dry-run", *NOW)
    real = _run(url, tmp_path, "plan", "--date", "2026-05-01", "--json", *NOW)
    again = _run(url, tmp_path, "plan", "--date", "2026-05-01", "--json", *NOW)

    assert dry.returncode == 0, dry.stderr
    assert "João" in dry.stdout and "(dry run)" in dry.stdout
    plan = json.loads(real.stdout)
    [decision] = plan["decisions"]
    assert (decision["moment"], decision["status"]) == ("birthday", "planned")
    assert json.loads(again.stdout)["already_decided"] == 1
    tasks = json.loads(_run(url, tmp_path, "tasks", "--json", *NOW).stdout)
    assert len(tasks) == 1
    brief = json.loads(_run(url, tmp_path, "brief", str(tasks[0]["id"]), *NOW).stdout)
    assert brief["name"] == "João Silva"
    done = _run(
        url,
        tmp_path,
        "outcome",
        str(tasks[0]["id"]),
        "--outcome",
        "reached",
        "--emotion",
        "happy",
        "--notes",
        "All well",
        *NOW,
    )
    assert done.returncode == 0, done.stderr
    assert "closed (reached)" in done.stdout


def test_a_bad_playbook_is_refused_with_its_line_and_a_failing_exit_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "playbooks:\n  default:\n    rules:\n      - moment: birthday\n"
        "        touches:\n          - {touch: email, template: no_such_template}\n"
    )
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    checked = _run(url, tmp_path, "playbook", "check", str(bad))
    loaded = _run(url, tmp_path, "playbook", "load", str(bad))

    assert checked.returncode == 1
    assert "playbooks.default.rules.0.touches.0.template: line 6:" in checked.stdout
    assert "no_such_template" in checked.stdout
    assert loaded.returncode == 1
