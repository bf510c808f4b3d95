"""Customer CSV import: the rejection report points at the right place and nothing crashes."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI
from regulars.services.exporter import export_customers
from regulars.services.importer import import_customers
from regulars.store.tables import customer_refs, customers
from tests import factories

HEADER = "card_number,external_id,first_name,city,email\n"


def _write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(customers)) or 0)


def test_a_too_long_external_id_is_a_rejected_row_not_a_failed_import(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    path = _write(tmp_path, HEADER + f",{'x' * 121},Inês,,\nC-0002,,Tom,,\n")

    report = import_customers(engine, CLI, path, now=now)

    assert (report.created, report.rejected) == (1, 1)
    assert [(p.line, p.column) for p in report.problems] == [(2, "external_id")]
    assert _count(engine) == 1


def test_a_bad_row_after_a_cell_spanning_two_lines_is_reported_on_its_own_first_line(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    text = HEADER + 'C-0001,,Inês,"Rua das Flores\nLisboa",\nC-0002,,Tom,,not-an-email\n'
    path = _write(tmp_path, text)

    report = import_customers(engine, CLI, path, now=now)

    # Line 2 holds Inês (over lines 2 and 3), line 4 holds Tom's bad e-mail.
    assert [(p.line, p.column) for p in report.problems] == [(4, "email")]


def test_a_bad_row_spanning_two_lines_is_reported_where_it_starts(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    text = HEADER + 'C-0001,,Inês,"Rua das Flores\nLisboa",not-an-email\n'
    path = _write(tmp_path, text)

    report = import_customers(engine, CLI, path, now=now)

    assert [(p.line, p.column) for p in report.problems] == [(2, "email")]


def test_a_customer_known_only_by_an_external_id_survives_export_and_import_again(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    factories.customer(engine, now, first_name="Inês", external_refs={"shop": "S-1001"})
    out = io.StringIO()
    export_customers(engine, CLI, out, now=now)
    path = _write(tmp_path, out.getvalue(), "export.csv")
    with engine.begin() as conn:
        conn.execute(customer_refs.delete())
        conn.execute(customers.delete())

    first = import_customers(engine, CLI, path, now=now)
    again = import_customers(engine, CLI, path, now=now)

    assert (first.created, first.rejected) == (1, 0), first.problems
    assert (again.created, again.duplicates, again.rejected) == (0, 1, 0)
    with engine.connect() as conn:
        refs = conn.execute(select(customer_refs.c.source, customer_refs.c.external_id)).all()
    assert [tuple(r) for r in refs] == [("shop", "S-1001")]


def test_the_empty_trailing_columns_a_spreadsheet_leaves_are_read_past(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    path = _write(tmp_path, "card_number,first_name,,\nC-0001,Inês,,\nC-0002,Tom,,oops\n")

    report = import_customers(engine, CLI, path, now=now)

    assert (report.created, report.rejected) == (1, 1)
    assert [(p.line, p.reason) for p in report.problems] == [
        (3, "column 4 has a value but no name")
    ]


def test_a_too_long_consent_source_is_reported_in_the_column_it_was_typed_in(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    long = "paper form " * 12
    path = _write(
        tmp_path,
        "card_number,first_name,consent_email,consent_source,consent_sms,consent_sms_source\n"
        f"C-0001,Inês,yes,{long},,\n"
        f"C-0002,Tom,,,yes,{long}\n",
    )

    report = import_customers(engine, CLI, path, now=now)

    assert [(p.line, p.column) for p in report.problems] == [
        (2, "consent_source"),
        (3, "consent_sms_source"),
    ]
