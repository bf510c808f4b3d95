"""CSV import: good rows land, each bad row is named by line and column, a rerun is a no-op."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI, Actor
from regulars.domain.customers import Role
from regulars.domain.errors import InvalidInput
from regulars.services.importer import import_customers, import_events
from regulars.store.db import make_engine
from regulars.store.schema import metadata
from regulars.store.tables import audit_log, consents, customer_refs, customers, events
from tests import factories

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def _business(engine: Engine, now: datetime) -> None:
    for code in ("CAFE-LIS", "CAFE-LON", "VW-NAPLES"):
        factories.location(engine, now, code=code)
    factories.staff(engine, now, email="dave.morales@regulars.example", locations=["VW-NAPLES"])


def _write(tmp_path: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_the_documented_customer_example_imports_its_good_rows_and_names_each_bad_one(
    engine: Engine, now: datetime
) -> None:
    _business(engine, now)

    report = import_customers(engine, CLI, EXAMPLES / "customers.csv", now=now)

    assert (report.created, report.duplicates, report.rejected) == (3, 0, 3)
    named = {(p.line, p.column) for p in report.problems}
    assert {(5, "consent_email"), (5, "email"), (5, "birthday")} <= named
    assert (6, "card_number") in named
    assert (7, "phone") in named
    assert _count(engine, customers) == 3
    with engine.connect() as conn:
        ines = conn.execute(select(customers).where(customers.c.card_number == "FF-90000001")).one()
        ref = conn.execute(select(customer_refs.c.source, customer_refs.c.external_id)).first()
        given_consents = conn.execute(
            select(consents.c.channel, consents.c.granted, consents.c.source)
            .where(consents.c.customer_id == ines.id)
            .order_by(consents.c.channel)
        ).all()
    assert (ines.first_name, ines.phone, ines.birthday_key) == ("Inês", "+351912345678", 412)
    assert str(ines.quiet_start) == "21:00:00"
    assert tuple(ref) == ("csv", "shop-1001")  # type: ignore[arg-type]
    assert [tuple(c) for c in given_consents] == [
        ("email", True, "paper form"),
        ("sms", False, "paper form"),
    ]


def test_importing_the_same_customer_file_again_writes_nothing(
    engine: Engine, now: datetime
) -> None:
    _business(engine, now)
    import_customers(engine, CLI, EXAMPLES / "customers.csv", now=now)
    events_before = _count(engine, events)

    again = import_customers(engine, CLI, EXAMPLES / "customers.csv", now=now)

    assert (again.created, again.duplicates, again.rejected) == (0, 3, 3)
    assert _count(engine, customers) == 3
    assert _count(engine, events) == events_before


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(
    engine: Engine, now: datetime
) -> None:
    _business(engine, now)

    report = import_customers(engine, CLI, EXAMPLES / "customers.csv", now=now, dry_run=True)

    assert (report.created, report.rejected) == (3, 3)
    assert _count(engine, customers) == 0
    assert _count(engine, events) == 0


def test_an_unknown_home_location_is_reported_on_its_line_by_the_service(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    _business(engine, now)
    path = _write(
        tmp_path, "card_number,first_name,home_location\nC-001,Ana,CAFE-XYZ\nC-002,Rui,\n"
    )

    report = import_customers(engine, CLI, path, now=now)

    assert report.created == 1
    assert [(p.line, p.column) for p in report.problems] == [(2, "home_location")]


def test_a_wrong_header_names_the_columns_and_writes_nothing(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    path = _write(tmp_path, "card,first_name,surname\nC-001,Ana,Silva\n")

    with pytest.raises(InvalidInput) as caught:
        import_customers(engine, CLI, path, now=now)

    assert "card, surname" in caught.value.message
    assert caught.value.problems[0].field == "header"
    assert _count(engine, customers) == 0


def test_a_missing_required_column_is_named(engine: Engine, now: datetime, tmp_path: Path) -> None:
    path = _write(tmp_path, "card_number,last_name\nC-001,Silva\n")

    with pytest.raises(InvalidInput, match="missing column\\(s\\): first_name"):
        import_customers(engine, CLI, path, now=now)


def test_a_latin1_file_is_refused_with_the_line_of_the_first_bad_byte(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    path = _write(tmp_path, "card_number,first_name\nC-001,Ana\nC-002,José\n", encoding="latin-1")

    with pytest.raises(InvalidInput, match=r"not UTF-8: byte 0xe9 .*\(line 3\)"):
        import_customers(engine, CLI, path, now=now)
    assert _count(engine, customers) == 0


def test_a_utf16_file_is_refused_and_a_utf8_bom_is_welcome(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    text = "card_number,first_name\nC-001,Zoë\n"
    utf16 = _write(tmp_path, text, "u16.csv", encoding="utf-16")
    with pytest.raises(InvalidInput, match="UTF-16"):
        import_customers(engine, CLI, utf16, now=now)

    report = import_customers(engine, CLI, _write(tmp_path, text, "bom.csv", "utf-8-sig"), now=now)

    assert report.created == 1
    with engine.connect() as conn:
        assert conn.scalar(select(customers.c.first_name)) == "Zoë"


def test_semicolon_separated_files_get_a_clear_message(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    path = _write(tmp_path, "card_number;first_name\nC-1;Ana\n")

    with pytest.raises(InvalidInput, match="separated by commas"):
        import_customers(engine, CLI, path, now=now)


def test_the_same_card_twice_in_one_file_is_rejected_on_the_second_line(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    path = _write(tmp_path, "card_number,first_name\nc-001,Ana\nC-001,Ana B\n")

    report = import_customers(engine, CLI, path, now=now)

    assert report.created == 1
    assert [(p.line, p.column, p.reason) for p in report.problems] == [
        (3, "card_number", "the same customer as line 2")
    ]


def test_the_documented_event_example_imports_grouped_lines_and_reports_bad_rows(
    engine: Engine, now: datetime
) -> None:
    _business(engine, now)
    import_customers(engine, CLI, EXAMPLES / "customers.csv", now=now)
    before = _count(engine, events)

    report = import_events(engine, CLI, EXAMPLES / "events.csv", now=now)

    assert (report.created, report.duplicates, report.rejected) == (5, 0, 3)
    assert [(p.line, p.column) for p in report.problems] == [
        (4, "unit_price"),
        (9, "occurred_at"),
        (10, "occurred_at"),
    ]
    assert _count(engine, events) == before + 5
    with engine.connect() as conn:
        spend = conn.scalar(
            select(customers.c.lifetime_spend).where(customers.c.card_number == "FF-90000001")
        )
    # 450 + 2 × 190 − 40 bought, one pastel de nata (170 net after its share of discount) back
    assert spend == 450 + 380 - 40 - 170

    again = import_events(engine, CLI, EXAMPLES / "events.csv", now=now)
    assert (again.created, again.duplicates) == (0, 5)
    assert _count(engine, events) == before + 5


def test_json_lines_events_import_and_name_the_field(engine: Engine, now: datetime) -> None:
    _business(engine, now)
    import_customers(engine, CLI, EXAMPLES / "customers.csv", now=now)

    report = import_events(engine, CLI, EXAMPLES / "events.jsonl", now=now)

    assert (report.created, report.rejected) == (2, 1)
    assert [(p.line, p.column) for p in report.problems] == [(3, "card_number")]


def test_rows_of_one_purchase_must_be_consecutive(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    cid = factories.customer(engine, now, card_number="C-001")
    head = "type,external_id,occurred_at,customer_id,sku,unit_price\n"
    rows = [
        f"purchase,P1,2026-04-01T10:00:00+00:00,{cid},A,100",
        f"purchase,P2,2026-04-01T10:00:00+00:00,{cid},B,100",
        f"purchase,P1,2026-04-01T10:00:00+00:00,{cid},C,100",
    ]
    path = _write(tmp_path, head + "\n".join(rows) + "\n")

    report = import_events(engine, CLI, path, now=now)

    assert report.created == 2
    assert [(p.line, p.column) for p in report.problems] == [(4, "external_id")]


def test_an_event_import_stays_within_the_importers_locations_and_is_audited(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    lisbon = factories.location(engine, now, code="CAFE-LIS")
    factories.location(engine, now, code="CAFE-LON")
    mine = factories.customer(engine, now, home_location="CAFE-LIS")
    theirs = factories.customer(engine, now, home_location="CAFE-LON", card_number="C-LON1")
    head = "type,external_id,occurred_at,customer_id,card_number,sku,unit_price\n"
    rows = [
        f"purchase,P1,2026-04-01T10:00:00+00:00,{mine},,A,100",
        f"purchase,P2,2026-04-01T10:00:00+00:00,{theirs},,B,100",
        "purchase,P3,2026-04-01T10:00:00+00:00,,c-lon1,C,100",
    ]
    path = _write(tmp_path, head + "\n".join(rows) + "\n")
    manager = Actor(kind="staff", id=1, role=Role.manager, locations=frozenset({lisbon}))

    report = import_events(engine, manager, path, now=now)

    assert report.created == 1
    assert [(p.line, p.column) for p in report.problems] == [
        (3, "customer_id"),
        (4, "card_number"),
    ]
    with engine.connect() as conn:
        owners = list(conn.scalars(select(events.c.customer_id).where(events.c.source == "csv")))
        entry = conn.execute(select(audit_log).where(audit_log.c.action == "events.import")).one()
    assert owners == [mine]
    assert entry.actor == "staff:1" and entry.after["created"] == 1


def _fresh_engine() -> tuple[Engine, str]:
    folder = tempfile.mkdtemp()
    engine = make_engine(f"sqlite:///{folder}/p.db")
    metadata.create_all(engine)
    return engine, folder


cells = st.sampled_from(
    [
        "",
        "Ana",
        "x@example.com",
        "+351912345678",
        "12",
        "1990-02-29",
        "1988-02-29",
        "yes",
        "maybe",
        "C-001",
        "C-002",
        "c-001",
        "C-1",
        "ü",
        "a,b",
    ]
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(cells, cells, cells, cells, cells), max_size=8))
def test_any_customer_file_imports_once_and_every_row_gets_a_verdict(
    rows: list[tuple[str, str, str, str, str]],
) -> None:
    import csv
    import io

    from tests.conftest import NOW

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["card_number", "first_name", "email", "birthday", "consent_email"])
    writer.writerows(rows)
    engine, folder = _fresh_engine()
    try:
        path = Path(folder) / "f.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        first = import_customers(engine, CLI, path, now=NOW)
        stored = _count(engine, customers)
        second = import_customers(engine, CLI, path, now=NOW)

        written = sum(1 for r in rows if any(c.strip() for c in r))
        assert first.created + first.duplicates + first.rejected == written
        assert stored == first.created
        assert second.created == 0
        assert second.duplicates == first.created + first.duplicates
        assert _count(engine, customers) == stored
    finally:
        engine.dispose()
        shutil.rmtree(folder)


def test_a_later_row_of_a_purchase_that_contradicts_its_first_row_is_named(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    cid = factories.customer(engine, now, card_number="C-001")
    other = factories.customer(engine, now, card_number="C-002")
    head = "type,external_id,occurred_at,customer_id,sku,unit_price\n"
    rows = [
        f"purchase,P1,2026-04-01T10:00:00+00:00,{cid},A,100",
        "purchase,P1,,,B,100",  # empty: the first row's values hold
        f"purchase,P1,2026-04-01T10:00:00+00:00,{cid},C,100",  # repeated: fine
        f"purchase,P2,2026-04-01T11:00:00+00:00,{cid},A,100",
        f"purchase,P2,2026-04-02T11:00:00+00:00,{other},B,100",  # another day, another person
    ]
    path = _write(tmp_path, head + "\n".join(rows) + "\n")

    report = import_events(engine, CLI, path, now=now)

    assert (report.created, report.rejected) == (1, 1)
    assert [(p.line, p.column) for p in report.problems] == [
        (6, "occurred_at"),
        (6, "customer_id"),
    ]
    assert "differs from line 5" in report.problems[0].reason


def test_an_imported_event_dated_in_the_future_is_refused_as_through_the_api(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    """A till whose clock ran years ahead would otherwise date the last purchase for good."""
    cid = factories.customer(engine, now, card_number="C-001")
    head = "type,external_id,occurred_at,customer_id,sku,unit_price\n"
    ahead = (now + timedelta(days=3)).isoformat()
    path = _write(tmp_path, head + f"purchase,P1,{ahead},{cid},A,100\n")

    report = import_events(engine, CLI, path, now=now)

    assert report.rejected == 1
    assert [(p.line, p.column) for p in report.problems] == [(2, "occurred_at")]
