"""Goodwill at the counter: within the limit at once, above it a request a manager decides."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from regulars.bootstrap import Runtime
from regulars.domain.access import CLI
from regulars.services import customers as customer_service
from regulars.services import loyalty, queries
from tests.loyalty_support import program_text
from tests.web_fixtures import ClientFor, ensure_location

EVIL = "<script>alert(1)</script>"


@pytest.fixture
def member(runtime: Runtime) -> int:
    """A café customer under the café program (staff may grant 100 points, managers 2 000)."""
    ensure_location(runtime, "CAFE-LIS")
    loyalty.load_program_file(runtime.uow(), CLI, program_text("cafe"), now=runtime.now())
    return customer_service.create_customer(
        runtime.uow(),
        CLI,
        {"first_name": "Angela", "last_name": "Moreira", "home_location": "CAFE-LIS"},
        now=runtime.now(),
    )


def grant(
    client: TestClient, customer_id: int, points: object, reason: str, key: str = ""
) -> Response:
    return client.post(
        f"/console/customers/{customer_id}/goodwill",
        data={
            "csrf_token": client.headers["X-CSRF-Token"],
            "points": points,
            "reason": reason,
            "key": key,
        },
    )


def form_key(client: TestClient, customer_id: int) -> str:
    """The one-time key the goodwill form carries."""
    page = client.get("/console/goodwill", params={"customer_id": customer_id})
    found = re.search(r'name="key" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def goodwill_events(runtime: Runtime, customer_id: int) -> list[dict[str, object]]:
    entries = queries.timeline(runtime.uow(), CLI, customer_id, types=["goodwill"]).entries
    return [e.payload for e in entries]


def test_the_goodwill_page_says_the_limit_of_my_role(
    member: int, console_client_for: ClientFor
) -> None:
    barista = console_client_for("staff", ["CAFE-LIS"])
    page = barista.get("/console/goodwill", params={"customer_id": member})
    assert page.status_code == 200
    assert "up to 100 points per customer a day" in page.text
    assert "Grant points to Angela Moreira" in page.text


def test_within_the_limit_the_points_are_granted_at_once_with_the_reason(
    runtime: Runtime, member: int, console_client_for: ClientFor
) -> None:
    barista = console_client_for("staff", ["CAFE-LIS"])
    answer = grant(barista, member, 50, "Wrong milk, twice")
    assert answer.status_code == 303
    page = barista.get(answer.headers["location"])
    assert "Goodwill granted." in page.text
    assert "50 points — Wrong milk, twice" in page.text
    assert [e["reason"] for e in goodwill_events(runtime, member)] == ["Wrong milk, twice"]


def test_the_same_goodwill_form_sent_twice_books_the_points_once(
    runtime: Runtime, member: int, console_client_for: ClientFor
) -> None:
    barista = console_client_for("staff", ["CAFE-LIS"])
    key = form_key(barista, member)
    first = grant(barista, member, 80, "Wrong milk", key)
    again = grant(barista, member, 80, "Wrong milk", key)  # resubmitted, or a retried POST
    assert first.status_code == again.status_code == 303
    assert "Goodwill granted." in barista.get(again.headers["location"]).text
    assert [e["points"] for e in goodwill_events(runtime, member)] == [80]


def test_each_opening_of_the_goodwill_form_can_grant_once(
    runtime: Runtime, member: int, console_client_for: ClientFor
) -> None:
    barista = console_client_for("staff", ["CAFE-LIS"])
    grant(barista, member, 30, "Wrong milk", form_key(barista, member))
    grant(barista, member, 30, "Wrong milk", form_key(barista, member))
    assert [e["points"] for e in goodwill_events(runtime, member)] == [30, 30]


def test_a_barista_cannot_grant_more_than_the_limit_by_splitting_it_into_small_grants(
    runtime: Runtime, member: int, console_client_for: ClientFor
) -> None:
    barista = console_client_for("staff", ["CAFE-LIS"])  # up to 100 points a day
    for n in range(5):
        grant(barista, member, 100, f"Make it right, part {n}", form_key(barista, member))
    assert [e["points"] for e in goodwill_events(runtime, member)] == [100]
    manager = console_client_for("manager", ["CAFE-LIS"])
    assert manager.get("/console/goodwill").text.count("Make it right, part") == 4


def test_above_the_limit_it_waits_for_a_manager_who_approves_it(
    runtime: Runtime, member: int, console_client_for: ClientFor
) -> None:
    barista = console_client_for("staff", ["CAFE-LIS"])
    answer = grant(barista, member, 500, "Spilled coffee on her coat")
    after = barista.get(answer.headers["location"])
    assert "sent to a manager for approval" in after.text
    assert goodwill_events(runtime, member) == []

    manager = console_client_for("manager", ["CAFE-LIS"])
    waiting = manager.get("/console/goodwill")
    assert "Spilled coffee on her coat" in waiting.text
    action = re.search(r'action="(/console/goodwill/requests/\d+/approve)"', waiting.text)
    assert action
    approved = manager.post(action.group(1), data={"csrf_token": manager.headers["X-CSRF-Token"]})
    assert approved.status_code == 303
    assert "Request approved" in manager.get(approved.headers["location"]).text
    assert [e["points"] for e in goodwill_events(runtime, member)] == [500]


def test_a_manager_declines_with_a_reason_and_nothing_is_booked(
    runtime: Runtime, member: int, console_client_for: ClientFor
) -> None:
    barista = console_client_for("staff", ["CAFE-LIS"])
    grant(barista, member, 300, "Felt ignored")
    manager = console_client_for("manager", ["CAFE-LIS"])
    action = re.search(
        r'action="(/console/goodwill/requests/\d+/decline)"', manager.get("/console/goodwill").text
    )
    assert action
    declined = manager.post(
        action.group(1),
        data={"csrf_token": manager.headers["X-CSRF-Token"], "note": "Already refunded"},
    )
    assert declined.status_code == 303
    assert "Nothing waiting." in manager.get("/console/goodwill").text
    assert goodwill_events(runtime, member) == []


def test_staff_cannot_decide_requests_and_do_not_see_the_approval_list(
    member: int, console_client_for: ClientFor
) -> None:
    barista = console_client_for("staff", ["CAFE-LIS"])
    grant(barista, member, 300, "Felt ignored")
    other = console_client_for("staff", ["CAFE-LIS"])
    assert "Waiting for approval" not in other.get("/console/goodwill").text
    answer = other.post(
        "/console/goodwill/requests/1/approve",
        data={"csrf_token": other.headers["X-CSRF-Token"]},
    )
    assert answer.status_code == 403


def test_a_missing_reason_or_nonsense_points_are_named_and_nothing_is_granted(
    runtime: Runtime, member: int, console_client_for: ClientFor
) -> None:
    barista = console_client_for("staff", ["CAFE-LIS"])
    no_reason = grant(barista, member, 20, "")
    assert no_reason.status_code == 422
    assert "reason" in no_reason.text
    nonsense = grant(barista, member, "lots", "because")
    assert nonsense.status_code == 422
    assert "a whole number of points" in nonsense.text
    assert goodwill_events(runtime, member) == []


def test_goodwill_for_a_customer_of_another_location_is_not_found(
    runtime: Runtime, member: int, console_client_for: ClientFor
) -> None:
    porto = console_client_for("manager", ["CAFE-POR"])
    page = porto.get(
        "/console/goodwill", params={"customer_id": member}, headers={"Accept": "text/html"}
    )
    assert page.status_code == 404
    answer = grant(porto, member, 10, "sneaky")
    assert answer.status_code == 404
    assert goodwill_events(runtime, member) == []


def test_a_grant_without_the_csrf_token_is_refused(
    runtime: Runtime, member: int, console_client_for: ClientFor
) -> None:
    barista = console_client_for("staff", ["CAFE-LIS"])
    del barista.headers["X-CSRF-Token"]
    answer = barista.post(
        f"/console/customers/{member}/goodwill", data={"points": 10, "reason": "x"}
    )
    assert answer.status_code == 403
    assert goodwill_events(runtime, member) == []


def test_a_reason_with_markup_is_escaped_in_the_approval_list(
    member: int, console_client_for: ClientFor
) -> None:
    barista = console_client_for("staff", ["CAFE-LIS"])
    grant(barista, member, 999, EVIL)
    html = console_client_for("manager", ["CAFE-LIS"]).get("/console/goodwill").text
    assert EVIL not in html
    assert "&lt;script&gt;" in html
