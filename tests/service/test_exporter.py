"""Export: everything the actor may see, page by page, in a form the import reads back."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from regulars.domain.access import CLI, Actor
from regulars.domain.customers import Role
from regulars.services import exporter
from regulars.services.exporter import export_customers, export_events
from regulars.services.importer import import_customers, import_events
from regulars.services.ingest import ingest_events
from regulars.store.tables import consents, customers
from regulars.store.uow import UnitOfWork
from tests import factories


def _shop(engine: Engine, now: datetime) -> dict[str, int]:
    lis = factories.location(engine, now, code="CAFE-LIS")
    lon = factories.location(engine, now, code="CAFE-LON", timezone="Europe/London")
    factories.staff(engine, now, email="rita@example.com", locations=["CAFE-LIS"])
    return {"CAFE-LIS": lis, "CAFE-LON": lon}


def _people(engine: Engine, now: datetime) -> list[int]:
    return [
        factories.customer(
            engine,
            now,
            card_number="FF-0001",
            first_name="Inês",
            email="ines@example.com",
            phone="+351912345678",
            birthday="1988-02-29",
            home_location="CAFE-LIS",
            quiet_hours={"start": "21:00", "end": "08:00"},
            consents=[
                {
                    "channel": "email",
                    "granted": True,
                    "at": "2025-01-02T10:00:00+00:00",
                    "source": "till",
                }
            ],
        ),
        factories.customer(
            engine, now, card_number="FF-0002", first_name="Tom", home_location="CAFE-LON"
        ),
        factories.customer(
            engine,
            now,
            card_number="FF-0003",
            first_name="Rui",
            home_location="CAFE-LIS",
            status="do_not_contact",
        ),
    ]


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_exported_customers_import_into_another_database_unchanged(
    engine: Engine, now: datetime, other_db: Engine, tmp_path: Path
) -> None:
    _shop(engine, now)
    _people(engine, now)
    out = io.StringIO()

    written = export_customers(engine, CLI, out, now=now)

    assert written == 3
    path = tmp_path / "customers.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    _shop(other_db, now)
    report = import_customers(other_db, CLI, path, now=now)
    assert (report.created, report.rejected) == (3, 0), report.problems
    columns = (
        "card_number",
        "first_name",
        "email",
        "phone",
        "birthday",
        "status",
        "quiet_start",
        "quiet_end",
    )

    def profiles(db: Engine) -> list[tuple[object, ...]]:
        with db.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    select(*(customers.c[c] for c in columns)).order_by(customers.c.card_number)
                )
            ]

    assert profiles(other_db) == profiles(engine)
    with other_db.connect() as conn:
        kept = conn.execute(select(consents.c.channel, consents.c.granted, consents.c.source)).all()
    assert [tuple(k) for k in kept] == [("email", True, "till")]


def test_a_location_export_holds_only_that_locations_customers(
    engine: Engine, now: datetime
) -> None:
    _shop(engine, now)
    _people(engine, now)
    out = io.StringIO()

    export_customers(engine, CLI, out, location="CAFE-LIS", now=now)

    rows = _csv_rows(out.getvalue())
    assert [r["card_number"] for r in rows] == ["FF-0001", "FF-0003"]
    assert rows[0]["consent_email"] == "yes"
    assert rows[0]["quiet_hours"] == "21:00-08:00"
    assert rows[1]["consent_email"] == ""


def test_staff_export_only_the_customers_of_their_own_locations(
    engine: Engine, now: datetime
) -> None:
    ids = _shop(engine, now)
    _people(engine, now)
    barista = Actor(kind="staff", id=1, role=Role.staff, locations=frozenset({ids["CAFE-LON"]}))
    out = io.StringIO()

    assert export_customers(engine, barista, out, fmt="json", now=now) == 1
    assert [c["first_name"] for c in json.loads(out.getvalue())] == ["Tom"]


def test_exports_page_through_large_tables(
    engine: Engine, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shop(engine, now)
    _people(engine, now)
    monkeypatch.setattr(exporter, "PAGE", 2)
    out = io.StringIO()

    assert export_customers(engine, CLI, out, fmt="jsonl", now=now) == 3
    assert len(out.getvalue().splitlines()) == 3


def test_an_export_shows_one_moment_even_while_customers_are_enrolled_during_it(
    engine: Engine, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On both databases the export reads one snapshot: a customer enrolled at the till
    while page two is being read is not in this export (the next one has them)."""
    _shop(engine, now)
    _people(engine, now)
    monkeypatch.setattr(exporter, "PAGE", 2)
    enrolled: list[int] = []

    def enrol_someone_meanwhile(_page: int) -> None:
        if not enrolled:
            enrolled.append(factories.customer(engine, now, card_number="FF-0009"))

    out = io.StringIO()
    written = export_customers(
        engine, CLI, out, fmt="jsonl", progress=enrol_someone_meanwhile, now=now
    )

    cards = [json.loads(line)["card_number"] for line in out.getvalue().splitlines()]
    assert enrolled, "the till's enrolment went through while the export was reading"
    assert written == 3
    assert cards == ["FF-0001", "FF-0002", "FF-0003"]


def test_the_timeline_exported_as_json_lines_imports_again_as_it_was(
    engine: Engine, now: datetime, other_db: Engine, tmp_path: Path
) -> None:
    _shop(engine, now)
    first, *_ = _people(engine, now)
    ingest_events(
        UnitOfWork(engine),
        [
            factories.purchase("p1", customer_id=first, location="CAFE-LIS"),
            {
                "type": "note",
                "source": "console",
                "external_id": "n1",
                "occurred_at": "2026-04-30T10:00:00+01:00",
                "customer_id": first,
                "text": "Training for the marathon",
                "tags": ["running"],
            },
        ],
        now=now,
    )
    out = io.StringIO()
    written = export_events(engine, CLI, out, fmt="jsonl", now=now)
    path = tmp_path / "events.jsonl"
    path.write_text(out.getvalue(), encoding="utf-8")

    again = import_events(engine, CLI, path, now=now)
    assert (again.created, again.duplicates, again.rejected) == (0, written, 0)

    _shop(other_db, now)
    _people(other_db, now)
    moved = import_events(other_db, CLI, path, now=now)
    assert moved.rejected == 0, moved.problems
    assert moved.created == 2  # the consent events were written there by enrolment already


def test_the_event_csv_carries_the_payload_as_json(engine: Engine, now: datetime) -> None:
    _shop(engine, now)
    first, *_ = _people(engine, now)
    ingest_events(UnitOfWork(engine), [factories.purchase("p1", customer_id=first)], now=now)
    out = io.StringIO()

    export_events(engine, CLI, out, location="CAFE-LIS", now=now)

    rows = [r for r in _csv_rows(out.getvalue()) if r["type"] == "purchase"]
    assert rows[0]["card_number"] == "FF-0001"
    assert json.loads(rows[0]["payload"])["lines"][0]["sku"] == "latte"
