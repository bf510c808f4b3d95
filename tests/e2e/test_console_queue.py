"""My queue: today's calls with their briefs, and one form to record how each went."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from regulars.bootstrap import Runtime
from regulars.domain.access import CLI
from regulars.services import accounts, queries
from regulars.services import customers as customer_service
from regulars.services.ingest import ingest_events
from regulars.services.planning import plan_day
from tests.web_fixtures import PASSWORD, ClientFor, log_in

EVIL = "<script>alert(1)</script>"


def rep_with_a_birthday_call(runtime: Runtime, first_name: str = "João") -> tuple[str, int]:
    """A dealer rep who owns João; João's birthday is today, so the plan has Rui call him."""
    now = runtime.now()
    customer_service.create_location(
        runtime.uow(),
        CLI,
        {
            "code": "DEAL-POR",
            "name": "Dealer Porto",
            "timezone": "Europe/Lisbon",
            "kind": "dealership",
        },
        now=now,
    )
    email = "rui@example.com"
    rui = accounts.add_staff(
        runtime.uow(),
        CLI,
        {
            "email": email,
            "name": "Rui",
            "role": "rep",
            "locations": ["DEAL-POR"],
            "daily_call_capacity": 6,
            "working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        },
        password=PASSWORD,
        now=now,
    )
    joao = customer_service.create_customer(
        runtime.uow(),
        CLI,
        {
            "first_name": first_name,
            "last_name": "Ferreira",
            "phone": "+351912345678",
            "birthday": "1962-05-01",
            "city": "Porto",
            "home_location": "DEAL-POR",
            "owner_staff_id": rui,
        },
        now=now,
    )
    customer_service.add_household_member(
        runtime.uow(), CLI, joao, {"name": "Marta", "relation": "spouse"}, now=now
    )
    customer_service.add_asset(
        runtime.uow(),
        CLI,
        joao,
        {"kind": "car", "label": "VW ID.4", "model_code": "VW-ID4-2023", "member_name": "Marta"},
        now=now,
    )
    ingest_events(
        runtime.uow(),
        [
            {
                "type": "purchase",
                "source": "pos",
                "external_id": "car-2024",
                "occurred_at": "2024-03-10T11:00:00+00:00",
                "customer_id": joao,
                "lines": [{"sku": "passat", "category": "cars", "unit_price": 4_200_000}],
            },
            {
                "type": "recall",
                "source": "vw",
                "external_id": "recall-77",
                "occurred_at": "2026-04-02T08:00:00+00:00",
                "asset_model": "VW-ID4-2023",
                "title": "Rear brake hose may chafe",
            },
        ],
        now=now,
    )
    plan_day(runtime.uow(), day=date(2026, 5, 1), now=now)
    return email, joao


@pytest.fixture
def rui(app: FastAPI, runtime: Runtime) -> tuple[TestClient, int]:
    email, joao = rep_with_a_birthday_call(runtime)
    return log_in(app, email), joao


def task_id_on(html: str) -> int:
    found = re.search(r'action="/console/tasks/(\d+)/outcome"', html)
    assert found, "no outcome form on the page"
    return int(found.group(1))


def test_my_queue_lists_todays_call_with_a_brief_that_knows_the_family(
    rui: tuple[TestClient, int],
) -> None:
    client, _ = rui
    page = client.get("/console/queue")
    assert page.status_code == 200
    html = page.text
    assert "João Ferreira" in html
    assert "Call:" in html
    assert "Marta" in html
    assert "Recall: Rear brake hose may chafe" in html
    assert "tel:+351912345678" in html
    for face in ("Unhappy", "Neutral", "Happy"):
        assert face in html


def test_recording_the_outcome_with_a_face_and_a_note_closes_the_task_and_fills_the_timeline(
    runtime: Runtime, rui: tuple[TestClient, int]
) -> None:
    client, joao = rui
    task = task_id_on(client.get("/console/queue").text)
    answer = client.post(
        f"/console/tasks/{task}/outcome",
        data={
            "csrf_token": client.headers["X-CSRF-Token"],
            "outcome": "reached",
            "emotion": "happy",
            "notes": "Loved the call; Marta booked the recall fix",
        },
    )
    assert answer.status_code == 303
    after = client.get(answer.headers["location"])
    assert "Outcome recorded." in after.text
    assert f"/console/tasks/{task}/outcome" not in after.text
    calls = queries.timeline(runtime.uow(), CLI, joao, types=["call"]).entries
    assert [(c.payload["outcome"], c.payload["emotion"]) for c in calls] == [("reached", "happy")]
    notes = queries.timeline(runtime.uow(), CLI, joao, types=["note"]).entries
    assert [n.payload["text"] for n in notes] == ["Loved the call; Marta booked the recall fix"]
    timeline = client.get(f"/console/customers/{joao}").text
    assert "Loved the call; Marta booked the recall fix" in timeline


def test_recording_the_same_outcome_twice_says_it_is_already_done(
    rui: tuple[TestClient, int],
) -> None:
    client, _ = rui
    task = task_id_on(client.get("/console/queue").text)
    data = {"csrf_token": client.headers["X-CSRF-Token"], "outcome": "reached"}
    client.post(f"/console/tasks/{task}/outcome", data=data)
    again = client.post(f"/console/tasks/{task}/outcome", data=data)
    assert again.status_code == 409
    assert "already done" in again.text


def test_a_note_typed_for_a_call_a_colleague_already_closed_is_kept_on_the_timeline(
    runtime: Runtime, rui: tuple[TestClient, int]
) -> None:
    client, joao = rui
    page = client.get("/console/queue").text
    task = task_id_on(page)
    assert f'name="customer_id" value="{joao}"' in page
    token = client.headers["X-CSRF-Token"]
    client.post(f"/console/tasks/{task}/outcome", data={"csrf_token": token, "outcome": "reached"})
    late = {
        "csrf_token": token,
        "outcome": "reached",
        "customer_id": str(joao),
        "notes": "Marta wants the recall done before Easter",
    }

    first = client.post(f"/console/tasks/{task}/outcome", data=late)
    client.post(f"/console/tasks/{task}/outcome", data=late)  # pressed again

    assert first.status_code == 409
    assert "your note was kept on the customer" in first.text
    notes = queries.timeline(runtime.uow(), CLI, joao, types=["note"]).entries
    assert [n.payload["text"] for n in notes] == ["Marta wants the recall done before Easter"]


def test_an_unknown_outcome_or_face_is_named_and_nothing_is_written(
    runtime: Runtime, rui: tuple[TestClient, int]
) -> None:
    client, joao = rui
    task = task_id_on(client.get("/console/queue").text)
    answer = client.post(
        f"/console/tasks/{task}/outcome",
        data={"csrf_token": client.headers["X-CSRF-Token"], "outcome": "maybe", "emotion": "meh"},
    )
    assert answer.status_code == 422
    assert "outcome" in answer.text
    assert queries.timeline(runtime.uow(), CLI, joao, types=["call"]).entries == ()


def test_a_rep_of_another_location_neither_sees_nor_closes_the_task(
    runtime: Runtime, rui: tuple[TestClient, int], console_client_for: ClientFor
) -> None:
    client, joao = rui
    task = task_id_on(client.get("/console/queue").text)
    stranger = console_client_for("rep", ["CAFE-LIS"])
    assert "João" not in stranger.get("/console/queue").text
    answer = stranger.post(
        f"/console/tasks/{task}/outcome",
        data={"csrf_token": stranger.headers["X-CSRF-Token"], "outcome": "reached"},
        headers={"Accept": "text/html"},
    )
    assert answer.status_code == 404
    assert queries.timeline(runtime.uow(), CLI, joao, types=["call"]).entries == ()


def test_an_outcome_without_the_csrf_token_is_refused(
    runtime: Runtime, rui: tuple[TestClient, int]
) -> None:
    client, joao = rui
    task = task_id_on(client.get("/console/queue").text)
    del client.headers["X-CSRF-Token"]
    answer = client.post(f"/console/tasks/{task}/outcome", data={"outcome": "reached"})
    assert answer.status_code == 403
    assert queries.timeline(runtime.uow(), CLI, joao, types=["call"]).entries == ()


def test_a_customer_name_with_markup_is_escaped_in_the_queue(
    app: FastAPI, runtime: Runtime
) -> None:
    email, _ = rep_with_a_birthday_call(runtime, first_name=EVIL)
    html = log_in(app, email).get("/console/queue").text
    assert EVIL not in html
    assert "&lt;script&gt;" in html


def test_an_empty_queue_says_so(console_client_for: ClientFor) -> None:
    page = console_client_for("rep", ["CAFE-LIS"]).get("/console/queue")
    assert "No calls planned for you today." in page.text
