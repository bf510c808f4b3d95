"""The manager's dashboard: today's plan per person, touches, held-back automations, trends."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from regulars.bootstrap import Runtime
from regulars.domain.access import CLI
from regulars.services import customers as customer_service
from regulars.services import loyalty
from regulars.services.ingest import ingest_events
from regulars.services.planning import plan_day
from tests.e2e.test_console_queue import rep_with_a_birthday_call
from tests.loyalty_support import program_text
from tests.web_fixtures import ClientFor, ensure_location, log_in

EVIL = "<script>alert(1)</script>"


@pytest.fixture
def manager(runtime: Runtime, console_client_for: ClientFor) -> TestClient:
    rep_with_a_birthday_call(runtime)
    return console_client_for("manager", ["DEAL-POR"])


def test_a_manager_sees_todays_plan_per_person_with_charts(manager: TestClient) -> None:
    page = manager.get("/console/dashboard")
    assert page.status_code == 200
    html = page.text
    assert "Today's plan" in html
    assert re.search(r"<td>Rui</td><td class=\"num\">1</td><td class=\"num\">0</td>", html)
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') >= 4
    assert "Touches by channel, last 7 days" in html


def test_progress_moves_when_the_rep_records_an_outcome(
    app: FastAPI, runtime: Runtime, manager: TestClient
) -> None:
    rui = log_in(app, "rui@example.com")
    task = re.search(r'action="/console/tasks/(\d+)/outcome"', rui.get("/console/queue").text)
    assert task
    rui.post(
        f"/console/tasks/{task.group(1)}/outcome",
        data={"csrf_token": rui.headers["X-CSRF-Token"], "outcome": "reached", "emotion": "happy"},
    )
    html = manager.get("/console/dashboard").text
    assert re.search(r"<td>Rui</td><td class=\"num\">1</td><td class=\"num\">1</td>", html)
    assert "Call 1" in html  # the touches chart says its numbers in words
    assert "happy %: " in html and "100" in html


def test_the_nps_trend_counts_promoters_minus_detractors(
    runtime: Runtime, manager: TestClient
) -> None:
    now = runtime.now()
    cid = customer_service.create_customer(
        runtime.uow(), CLI, {"first_name": "Ana", "home_location": "DEAL-POR"}, now=now
    )
    answers = [10, 9, 7, 3]  # two promoters, one passive, one detractor: NPS 25
    ingest_events(
        runtime.uow(),
        [
            {
                "type": "survey_answer",
                "source": "survey",
                "external_id": f"s{n}",
                "occurred_at": now.isoformat(),
                "customer_id": cid,
                "score": score,
            }
            for n, score in enumerate(answers)
        ],
        now=now,
    )
    html = manager.get("/console/dashboard").text
    assert "<title>NPS: 25</title>" in html  # the point for the week of Monday 27 April
    assert "27 Apr 25." in html  # and the same number in the chart's words


def test_automations_held_back_today_are_listed_with_the_planners_reasons(
    runtime: Runtime, console_client_for: ClientFor
) -> None:
    now = runtime.now()
    ensure_location(runtime, "CAFE-LIS")
    customer_service.create_customer(
        runtime.uow(),
        CLI,
        {
            "first_name": "Carla",
            "email": "carla@example.com",
            "birthday": "1980-05-01",
            "home_location": "CAFE-LIS",
        },
        now=now,
    )
    plan_day(runtime.uow(), day=date(2026, 5, 1), now=now)
    html = console_client_for("manager", ["CAFE-LIS"]).get("/console/dashboard").text
    assert "Carla" in html
    assert "e-mail: no consent for e-mail" in html


def test_members_enrolled_and_active_come_from_the_loyalty_census(
    runtime: Runtime, console_client_for: ClientFor
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    loyalty.load_program_file(runtime.uow(), CLI, program_text("cafe"), now=runtime.now())
    html = console_client_for("manager", ["CAFE-LIS"]).get("/console/dashboard").text
    assert "Members enrolled vs active" in html
    assert "Café Regulars: 0 enrolled, 0 active" in html


def test_staff_and_reps_may_not_open_the_dashboard(console_client_for: ClientFor) -> None:
    for role in ("staff", "rep"):
        client = console_client_for(role, ["CAFE-LIS"])
        answer = client.get("/console/dashboard", headers={"Accept": "text/html"})
        assert answer.status_code == 403
        assert "Dashboard" not in client.get("/console/check-in").text


def test_a_manager_elsewhere_sees_none_of_this_locations_people_or_customers(
    runtime: Runtime, manager: TestClient, console_client_for: ClientFor
) -> None:
    elsewhere = console_client_for("manager", ["CAFE-LIS"])
    html = elsewhere.get("/console/dashboard").text
    assert "Rui" not in html
    assert "João" not in html
    answer = elsewhere.get(
        "/console/dashboard", params={"location": "DEAL-POR"}, headers={"Accept": "text/html"}
    )
    assert answer.status_code in (403, 422)
    assert "Rui" not in answer.text


def test_names_with_markup_are_escaped_in_tables_and_charts(
    app: FastAPI, runtime: Runtime, console_client_for: ClientFor
) -> None:
    rep_with_a_birthday_call(runtime, first_name=EVIL)
    html = console_client_for("manager", ["DEAL-POR"]).get("/console/dashboard").text
    assert EVIL not in html
