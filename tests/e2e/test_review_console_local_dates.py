"""Dates on console pages are the location's own days, not UTC's.

A Denver customer seen at 21:00 on 30 April (03:00 UTC on 1 May) was "last seen 01 May" on
the customer page, and the rep's brief dated her last call and her notes a day late.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from regulars.bootstrap import Runtime
from regulars.domain.access import CLI
from regulars.services import accounts
from regulars.services import customers as customer_service
from regulars.services.ingest import ingest_events
from regulars.services.planning import plan_day
from tests.web_fixtures import PASSWORD, log_in

#: 21:00 on Thursday 30 April in Denver.
EVENING_IN_DENVER = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return EVENING_IN_DENVER


def _at(text: str) -> str:
    """An instant in UTC, three hours into the next UTC day (a Denver evening)."""
    return f"{text}T03:00:00+00:00"


def denver_customer_with_history(runtime: Runtime) -> tuple[str, int]:
    """A Denver rep, and a customer of theirs whose birthday (30 April) puts her in the queue."""
    now = runtime.now()
    customer_service.create_location(
        runtime.uow(),
        CLI,
        {"code": "VW-DEN", "name": "VW Denver", "timezone": "America/Denver", "kind": "dealership"},
        now=now,
    )
    email = "dana@example.com"
    dana = accounts.add_staff(
        runtime.uow(),
        CLI,
        {
            "email": email,
            "name": "Dana",
            "role": "rep",
            "locations": ["VW-DEN"],
            "daily_call_capacity": 6,
            "working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        },
        password=PASSWORD,
        now=now,
    )
    cid = customer_service.create_customer(
        runtime.uow(),
        CLI,
        {
            "first_name": "Molly",
            "last_name": "Hughes",
            "phone": "+13035550142",
            "birthday": "1970-04-30",
            "home_location": "VW-DEN",
            "owner_staff_id": dana,
            "consents": [
                {"channel": "phone", "granted": True, "at": _at("2026-04-15"), "source": "desk"}
            ],
        },
        now=now,
    )
    base = {"customer_id": cid}
    ingest_events(
        runtime.uow(),
        [
            base
            | {
                "type": "call",
                "source": "tasks",
                "external_id": "c1",
                "occurred_at": _at("2026-04-10"),
                "direction": "outbound",
                "outcome": "reached",
                "notes": "Asked about the winter tyres",
            },
            base
            | {
                "type": "note",
                "source": "console",
                "external_id": "n1",
                "occurred_at": _at("2026-04-20"),
                "text": "Daughter starts college in the fall",
            },
            base
            | {
                "type": "visit",
                "source": "pos",
                "external_id": "v1",
                "occurred_at": _at("2026-04-25"),
            },
            base
            | {
                "type": "ticket",
                "source": "desk",
                "external_id": "t1",
                "occurred_at": _at("2026-04-28"),
                "ticket_id": "T-1",
                "subject": "Rattle after the service",
            },
        ],
        now=now,
    )
    plan_day(runtime.uow(), day=date(2026, 4, 30), now=now)
    return email, cid


@pytest.fixture
def dana(app: FastAPI, runtime: Runtime) -> tuple[TestClient, int]:
    email, cid = denver_customer_with_history(runtime)
    return log_in(app, email), cid


def test_the_customer_page_dates_the_last_visit_and_the_complaint_on_denver_days(
    dana: tuple[TestClient, int],
) -> None:
    client, cid = dana
    html = client.get(f"/console/customers/{cid}").text
    assert "last visit 24 Apr 2026" in html
    assert "since 27 Apr 2026" in html  # the open complaint
    assert "14 Apr 2026 · desk" in html  # the phone consent
    assert "<dt>Customer since</dt><dd>30 Apr 2026</dd>" in html


def test_the_brief_in_the_queue_dates_the_last_call_and_the_notes_on_denver_days(
    dana: tuple[TestClient, int],
) -> None:
    client, _ = dana
    html = client.get("/console/queue").text
    assert "Molly Hughes" in html
    assert '<span class="muted">09 Apr 2026</span> call' in html
    assert '<span class="muted">19 Apr 2026</span> Daughter starts college' in html
    assert "10 Apr 2026" not in html
    assert "20 Apr 2026" not in html
