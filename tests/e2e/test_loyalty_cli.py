"""The loyalty commands as a program manager runs them: check, load, show, simulate, jobs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from regulars.cli import app
from regulars.config import get_settings
from regulars.services.ingest import ingest_events
from regulars.store.db import make_engine
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import PROGRAMS, program_text

NOW = datetime(2026, 5, 1, 9, tzinfo=UTC)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A café with a year of purchases, some with a card fee line, the café program loaded."""
    monkeypatch.setenv("REGULARS_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    assert run("init")[0] == 0
    engine = make_engine(get_settings().database_url)
    factories.location(engine, NOW, "CAFE-LIS")
    assert run("program", "load", str(PROGRAMS / "cafe.yaml"))[0] == 0
    people = [factories.customer(engine, NOW, first_name=f"Guest {n}") for n in range(12)]
    items = []
    for day in range(0, 360, 3):
        for n, cid in enumerate(people[: 3 + day % 9]):
            lines = [{"sku": "latte", "category": "drinks", "unit_price": 380}]
            if n % 3 == 0:
                lines.append({"sku": "card-fee", "category": "fees", "unit_price": 150})
            at = NOW - timedelta(days=365 - day, hours=n)
            items.append(
                factories.purchase(
                    f"s{day}-{n}",
                    customer_id=cid,
                    location="CAFE-LIS",
                    at=at.isoformat(),
                    lines=lines,
                )
            )
    ingest_events(UnitOfWork(engine), items, now=NOW)
    engine.dispose()
    yield tmp_path
    get_settings.cache_clear()


def test_program_check_names_the_line_and_field_of_each_mistake(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(program_text("cafe", **{"  points_per_unit: 1": "  points_per_unit: -1"}))

    code, output = run("program", "check", str(bad))

    line = bad.read_text().splitlines().index("  points_per_unit: -1") + 1
    assert code == 1
    assert f"bad.yaml:{line}: earning.points_per_unit:" in output


def test_program_check_explains_a_good_file_in_plain_words() -> None:
    code, output = run("program", "check", str(PROGRAMS / "dealership.yaml"))

    assert code == 0
    assert "Partner FuelCo" in output
    assert "drops at most one tier per review" in output


def test_program_show_explains_the_program_in_force(shop: Path) -> None:
    code, output = run("program", "show", "cafe")

    assert code == 0
    assert "Café Regulars" in output


def test_a_proposal_that_rewards_fees_stands_out_in_the_simulation(shop: Path) -> None:
    proposal = shop / "proposal.yaml"
    proposal.write_text(
        program_text(
            "cafe", **{"  excluded_categories: [fees, gift_cards]": "  excluded_categories: []"}
        )
    )
    report = shop / "report.html"

    code, output = run(
        "simulate",
        "--program",
        str(proposal),
        "--baseline",
        str(PROGRAMS / "cafe.yaml"),
        "--from",
        "2025-06-01",
        "--to",
        "2026-04-30",
        "--json",
        "--html",
        str(report),
    )

    assert code == 0, output
    result = json.loads(output)
    assert result["proposed"]["per_category"]["fees"] > 0
    assert "fees" not in result["baseline"]["per_category"]
    assert result["proposed"]["issued"] > result["baseline"]["issued"]
    assert any("'fees'" in finding for finding in result["findings"])
    html = report.read_text()
    assert html.count("<svg") >= 3
    assert "<script" not in html
    assert "fees" in html


def test_the_simulator_table_compares_the_two_programs(shop: Path) -> None:
    code, output = run(
        "simulate",
        "--program",
        str(PROGRAMS / "cafe.yaml"),
        "--from",
        "2025-06-01",
        "--to",
        "2026-04-30",
    )

    assert code == 0, output
    assert "points issued" in output
    assert "rule: base" in output


def test_the_nightly_jobs_report_what_they_did(shop: Path) -> None:
    code, output = run("loyalty", "expire", "--now", "2026-05-01T09:00:00+00:00")
    assert code == 0, output
    assert "points matured" in output

    code, output = run("loyalty", "review", "--now", "2026-05-01T09:00:00+00:00")
    assert code == 0, output
    assert "cafe:" in output

    code, output = run("loyalty", "census", "--now", "2026-05-01T09:00:00+00:00", "--json")
    assert code == 0, output
    (cafe,) = json.loads(output)
    assert cafe["enrolled"] == 9  # guests 10 to 12 never came


def test_a_pile_of_sign_up_forms_is_enrolled_at_once_and_a_bad_line_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGULARS_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    get_settings.cache_clear()
    assert run("init")[0] == 0
    engine = make_engine(get_settings().database_url)
    factories.location(engine, NOW, "VW-NAPLES", timezone="America/New_York")
    assert run("program", "load", str(PROGRAMS / "dealership.yaml"))[0] == 0
    people = [factories.customer(engine, NOW, first_name=f"Driver {n}") for n in range(3)]
    engine.dispose()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"customer_id,signed_up_at\n{people[0]},2026-04-02T10:00:00-04:00\n"
        f"x7,\n{people[1]},2026-04-02 10:00\n"
    )
    good = tmp_path / "forms.csv"
    good.write_text(
        f"customer_id,signed_up_at\n{people[0]},2026-04-02T10:00:00-04:00\n{people[1]},\n"
        f"{people[2]},2026-04-03T11:30:00-04:00\n"
    )

    code, out = run("loyalty", "enrol-forms", "dealership", str(bad))
    assert code == 2
    assert "line 3, customer_id" in out
    assert "line 4, signed_up_at: give the offset" in out
    assert "nothing was enrolled" in out

    code, out = run("loyalty", "enrol-forms", "dealership", str(good), "--now", NOW.isoformat())
    assert code == 0, out
    assert "3 enrolled, 0 already members." in out
    code, out = run("loyalty", "enrol-forms", "dealership", str(good))
    assert "0 enrolled, 3 already members." in out
    get_settings.cache_clear()
