"""`regulars import` and `regulars export` as a shop manager runs them, on the documented files."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from regulars.cli import app
from regulars.config import get_settings
from regulars.domain.access import CLI
from regulars.services.customers import create_location, create_staff
from regulars.store.db import make_engine
from regulars.store.uow import UnitOfWork

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
NOW = "2026-05-01T09:00:00+01:00"


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A database with the locations and the rep the documented examples refer to."""
    monkeypatch.setenv("REGULARS_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    get_settings.cache_clear()
    assert CliRunner().invoke(app, ["init"]).exit_code == 0
    engine = make_engine(get_settings().database_url)
    now = datetime.fromisoformat(NOW)
    for code, zone in (
        ("CAFE-LIS", "Europe/Lisbon"),
        ("CAFE-LON", "Europe/London"),
        ("VW-NAPLES", "America/New_York"),
    ):
        create_location(
            UnitOfWork(engine), CLI, {"code": code, "name": code, "timezone": zone}, now=now
        )
    create_staff(
        UnitOfWork(engine),
        CLI,
        {
            "email": "dave.morales@regulars.example",
            "name": "Dave Morales",
            "role": "rep",
            "locations": ["VW-NAPLES"],
        },
        now=now,
    )
    engine.dispose()
    yield tmp_path
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_a_customer_file_with_bad_rows_imports_the_good_ones_and_lists_each_bad_one(
    shop: Path,
) -> None:
    report = shop / "rejected.csv"

    code, out = run(
        "import",
        "customers",
        str(EXAMPLES / "customers.csv"),
        "--report",
        str(report),
        "--now",
        NOW,
    )

    assert code == 1  # some rows were rejected
    assert "created" in out and "Rejected rows" in out
    assert "not an e-mail address" in out
    with report.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["line"], r["column"]) for r in rows} >= {
        ("5", "email"),
        ("6", "card_number"),
        ("7", "phone"),
    }


def test_a_rerun_is_a_no_op_and_a_dry_run_writes_nothing(shop: Path) -> None:
    _, out = run("import", "customers", str(EXAMPLES / "customers.csv"), "--dry-run")
    assert "Dry run: nothing was written." in out
    assert "would be created" in out

    run("import", "customers", str(EXAMPLES / "customers.csv"))
    _, out = run("import", "customers", str(EXAMPLES / "customers.csv"))

    lines = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in out.splitlines()
        if line.count("│") == 3
    }
    assert lines["created"] == "0"
    assert lines["duplicate (already there)"] == "3"


def test_a_wrong_header_stops_the_import_with_the_columns_named(shop: Path) -> None:
    bad = shop / "bad.csv"
    bad.write_text("kard,first_name\nFF-1234,Ana\n", encoding="utf-8")

    code, out = run("import", "customers", str(bad))

    assert code == 2
    assert "unknown column(s): kard" in out


def test_a_latin1_file_is_refused_by_name(shop: Path) -> None:
    bad = shop / "latin1.csv"
    bad.write_bytes("card_number,first_name\nFF-1234,José\n".encode("latin-1"))

    code, out = run("import", "customers", str(bad))

    assert code == 2
    assert "not UTF-8" in out and "line 2" in out


def test_events_import_from_csv_and_json_lines_then_export_as_json(shop: Path) -> None:
    run("import", "customers", str(EXAMPLES / "customers.csv"))

    code, out = run("import", "events", str(EXAMPLES / "events.csv"), "--now", NOW)
    assert code == 1 and "unit_price" in out
    code, out = run("import", "events", str(EXAMPLES / "events.jsonl"), "--now", NOW)
    assert code == 1 and "no customer has this card" in out

    target = shop / "timeline.json"
    code, out = run("export", "events", "--format", "json", "--out", str(target))
    assert code == 0, out
    exported = json.loads(target.read_text(encoding="utf-8"))
    kinds = {e["type"] for e in exported}
    assert {"purchase", "return", "visit", "note", "survey_answer", "ticket"} <= kinds
    assert all(isinstance(e["payload"], dict) for e in exported)


def test_customers_export_as_csv_by_location_to_the_terminal(shop: Path) -> None:
    run("import", "customers", str(EXAMPLES / "customers.csv"))

    code, out = run("export", "customers", "--location", "VW-NAPLES")

    assert code == 0, out
    rows = list(csv.DictReader(out.strip().splitlines()))  # the runner mixes in stderr
    assert [r["card_number"] for r in rows] == ["VW-90000003"]
    assert rows[0]["owner_email"] == "dave.morales@regulars.example"


def test_an_unknown_location_is_refused(shop: Path) -> None:
    code, out = run("export", "customers", "--location", "NOWHERE")

    assert code == 2
    assert "unknown location 'NOWHERE'" in out


def test_an_output_file_that_cannot_be_written_is_named_not_a_traceback(
    shop: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-folder" / "customers.csv"

    code, out = run("export", "customers", "--out", str(missing))

    assert code == 2
    assert "cannot write here" in out and "Traceback" not in out


def test_a_refused_export_leaves_the_file_already_at_that_path_untouched(
    shop: Path, tmp_path: Path
) -> None:
    target = tmp_path / "customers.csv"
    target.write_text("yesterday's export\n", encoding="utf-8")

    code, out = run("export", "customers", "--location", "NOWHERE", "--out", str(target))

    assert code == 2, out
    assert target.read_text(encoding="utf-8") == "yesterday's export\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []
