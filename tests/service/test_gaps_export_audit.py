"""Bulk export leaves a trace: who took everyone's data out, when, what and how much."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from sqlalchemy import Engine

from regulars.domain.access import CLI, Actor
from regulars.domain.customers import Role
from regulars.domain.errors import InvalidInput
from regulars.services.audit_trail import AuditEntry, browse_audit
from regulars.services.exporter import export_customers, export_events
from regulars.services.ingest import ingest_events
from regulars.store.uow import UnitOfWork
from tests import factories

OWNER = Actor(kind="staff", id=1, role=Role.owner, name="Olga")


def _shop(engine: Engine, now: datetime) -> list[int]:
    factories.location(engine, now, code="CAFE-LIS")
    factories.location(engine, now, code="CAFE-LON", timezone="Europe/London")
    return [
        factories.customer(engine, now, card_number="FF-0001", home_location="CAFE-LIS"),
        factories.customer(engine, now, card_number="FF-0002", home_location="CAFE-LIS"),
        factories.customer(engine, now, card_number="FF-0003", home_location="CAFE-LON"),
    ]


def _exports(engine: Engine) -> list[AuditEntry]:
    return list(browse_audit(UnitOfWork(engine, readonly=True), OWNER, entity="export").entries)


class _BrokenPipe(io.StringIO):
    """An output that takes a few lines and then fails, like a closed pipe or a full disk."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.lines = lines

    def write(self, text: str) -> int:
        if self.getvalue().count("\n") >= self.lines:
            raise OSError("No space left on device")
        return super().write(text)


def test_a_customer_export_is_in_the_audit_log_with_who_when_what_and_how_many(
    engine: Engine, now: datetime
) -> None:
    _shop(engine, now)

    written = export_customers(engine, OWNER, io.StringIO(), fmt="json", now=now)

    (entry,) = _exports(engine)
    assert written == 3
    assert (entry.actor, entry.at, entry.action, entry.entity_id) == (
        "staff:1",
        now,
        "customers.export",
        "customers",
    )
    assert entry.after == {
        "kind": "customers",
        "format": "json",
        "location": None,
        "count": 3,
        "complete": True,
    }


def test_an_event_export_of_one_location_is_audited_with_that_location(
    engine: Engine, now: datetime
) -> None:
    first, *_ = _shop(engine, now)
    ingest_events(UnitOfWork(engine), [factories.purchase("p1", customer_id=first)], now=now)
    out = io.StringIO()

    written = export_events(engine, CLI, out, fmt="jsonl", location="CAFE-LIS", now=now)

    (entry,) = _exports(engine)
    assert entry.actor == "cli"
    assert entry.action == "events.export"
    assert entry.after is not None
    assert (entry.after["format"], entry.after["location"]) == ("jsonl", "CAFE-LIS")
    assert entry.after["count"] == written == len(out.getvalue().splitlines())


def test_every_export_is_a_separate_entry(engine: Engine, now: datetime) -> None:
    _shop(engine, now)

    export_customers(engine, CLI, io.StringIO(), now=now)
    export_customers(engine, CLI, io.StringIO(), location="CAFE-LON", now=now)

    counts = [(e.after or {})["count"] for e in _exports(engine)]
    assert counts == [1, 3]  # newest first


def test_an_export_that_breaks_off_is_audited_with_what_had_left_by_then(
    engine: Engine, now: datetime
) -> None:
    _shop(engine, now)

    with pytest.raises(OSError, match="No space left"):
        export_customers(engine, CLI, _BrokenPipe(lines=2), fmt="jsonl", now=now)

    (entry,) = _exports(engine)
    assert entry.after is not None
    assert entry.after["complete"] is False
    assert entry.after["count"] == 2  # two customers had left when the disk filled up


def test_an_export_refused_before_reading_writes_no_audit_entry(
    engine: Engine, now: datetime
) -> None:
    _shop(engine, now)

    with pytest.raises(InvalidInput):
        export_customers(engine, CLI, io.StringIO(), location="NOWHERE", now=now)
    with pytest.raises(InvalidInput):
        export_events(engine, CLI, io.StringIO(), location="NOWHERE", now=now)

    assert _exports(engine) == []


def test_writes_go_on_while_an_export_is_reading(engine: Engine, now: datetime) -> None:
    """The export reads in a read-only transaction; only the short audit write takes a lock."""
    _shop(engine, now)
    seen: list[int] = []

    def meanwhile(rows: int) -> None:
        if not seen:  # a colleague enrols someone while the first page is being written
            seen.append(factories.customer(engine, now, card_number="FF-9000"))

    export_customers(engine, CLI, io.StringIO(), progress=meanwhile, now=now)

    assert len(seen) == 1
    (entry,) = _exports(engine)
    assert (entry.after or {})["count"] >= 3
