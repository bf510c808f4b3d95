"""The counter: scan a card, see what to say, tap "greeted", leave a note, enrol a stranger."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import insert, select

from regulars.bootstrap import Runtime
from regulars.domain.access import CLI
from regulars.services import customers as customer_service
from regulars.services import queries
from regulars.store.planner_tables import staff_tasks
from tests.web_fixtures import ClientFor, ensure_location

EVIL = "<script>alert(1)</script>"


def enrol(runtime: Runtime, location: str = "CAFE-LIS", **fields: object) -> int:
    ensure_location(runtime, location)
    data = {"first_name": "Angela", "last_name": "Moreira", "home_location": location} | fields
    return customer_service.create_customer(runtime.uow(), CLI, data, now=runtime.now())


def csrf(client: TestClient) -> str:
    return client.headers["X-CSRF-Token"]


def hidden(html: str, name: str) -> str:
    """The value of the first hidden field called ``name`` on the page."""
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no field {name} on the page"
    return found.group(1)


def scan(client: TestClient, card: str, key: str = "k1") -> Response:
    return client.post(
        "/console/check-in", data={"csrf_token": csrf(client), "card": card, "key": key}
    )


def tap_greeted(client: TestClient, prompt: Response, action: str, moment: str) -> Response:
    """Tap "greeted" on the check-in ``prompt`` at CAFE-LIS (a form posted to ``action``)."""
    return client.post(
        action,
        data={
            "csrf_token": csrf(client),
            "customer_id": hidden(prompt.text, "customer_id"),
            "request_id": hidden(prompt.text, "request_id"),
            "location": "CAFE-LIS",
            "moment": moment,
        },
    )


def events_of(runtime: Runtime, customer_id: int, kind: str) -> list[queries.TimelineEntry]:
    return list(queries.timeline(runtime.uow(), CLI, customer_id, types=[kind]).entries)


@pytest.fixture
def counter(console_client_for: ClientFor) -> TestClient:
    return console_client_for("staff", ["CAFE-LIS"])


def test_the_check_in_page_has_a_scan_box_that_is_ready_for_a_usb_scanner(
    counter: TestClient,
) -> None:
    page = counter.get("/console/check-in")
    assert page.status_code == 200
    assert "data-scan" in page.text
    assert 'name="card"' in page.text


def test_scanning_a_birthday_customer_shows_the_prompt_and_greeted_is_one_tap(
    runtime: Runtime, counter: TestClient
) -> None:
    cid = enrol(runtime, card_number="RG-0001", birthday="1980-05-01")
    answer = scan(counter, "rg-0001")  # typed in lower case; cards compare upper case
    assert answer.status_code == 200
    assert "It is Angela&#39;s birthday today" in answer.text
    assert len(events_of(runtime, cid, "visit")) == 1

    action = re.search(r'action="(/console/check-in/\d+/greeted)"', answer.text)
    assert action
    greeted = tap_greeted(counter, answer, action.group(1), "birthday")
    assert greeted.status_code == 200
    assert "Greeted ✓" in greeted.text
    assert "Marked as greeted." in greeted.text
    assert [e.payload["moment"] for e in events_of(runtime, cid, "greeted")] == ["birthday"]
    assert len(events_of(runtime, cid, "visit")) == 1, "showing the view again is no new visit"


def test_a_quick_note_at_the_counter_is_two_interactions_and_saved_once(
    runtime: Runtime, counter: TestClient
) -> None:
    cid = enrol(runtime, card_number="RG-0002")
    view = scan(counter, "RG-0002")
    action = re.search(r'action="(/console/check-in/\d+/note)"', view.text)
    assert action
    fields = {
        "csrf_token": csrf(counter),
        "customer_id": str(cid),
        "request_id": hidden(view.text, "request_id"),
        "location": "CAFE-LIS",
        "key": "note-key-1",
        "text": "Back from Florida, tanned",
    }
    saved = counter.post(action.group(1), data=fields)
    counter.post(action.group(1), data=fields)  # a double tap
    assert saved.status_code == 200
    assert "Note saved" in saved.text
    assert "Back from Florida, tanned" in saved.text
    assert [e.payload["text"] for e in events_of(runtime, cid, "note")] == [
        "Back from Florida, tanned"
    ]


def test_the_same_scan_posted_twice_is_one_visit(runtime: Runtime, counter: TestClient) -> None:
    cid = enrol(runtime, card_number="RG-0003")
    scan(counter, "RG-0003", key="same")
    scan(counter, "RG-0003", key="same")
    assert len(events_of(runtime, cid, "visit")) == 1


def test_an_unknown_card_offers_to_enrol_and_enrolling_checks_them_in(
    runtime: Runtime, counter: TestClient
) -> None:
    answer = scan(counter, "RG-NEW-9")
    assert answer.status_code == 404
    assert "Card RG-NEW-9 not found — enrol?" in answer.text
    enrolled = counter.post(
        "/console/enrol",
        data={
            "csrf_token": csrf(counter),
            "card_number": "RG-NEW-9",
            "first_name": "Bruno",
            "phone": "+351 912 000 111",
            "location": "CAFE-LIS",
        },
    )
    assert enrolled.status_code == 200
    assert "Welcome aboard" in enrolled.text
    found = queries.search_customers(runtime.uow(), CLI, card_number="RG-NEW-9")
    assert [c.first_name for c in found] == ["Bruno"]
    assert len(events_of(runtime, found[0].id, "visit")) == 1


def test_enrolling_with_bad_input_names_the_field_and_writes_nothing(
    runtime: Runtime, counter: TestClient
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    answer = counter.post(
        "/console/enrol",
        data={"csrf_token": csrf(counter), "card_number": "RG-X1", "first_name": "", "phone": "12"},
    )
    assert answer.status_code == 422
    assert "first_name" in answer.text
    assert queries.search_customers(runtime.uow(), CLI, card_number="RG-X1") == []


def test_search_by_name_or_phone_lists_only_customers_of_my_locations(
    runtime: Runtime, counter: TestClient
) -> None:
    enrol(runtime, first_name="Angela", phone="+351912345678")
    enrol(runtime, "CAFE-PORTO", first_name="Angelina", last_name="Porto")
    by_name = counter.get("/console/check-in", params={"q": "ange"})
    assert "Angela Moreira" in by_name.text
    assert "Angelina" not in by_name.text
    by_phone = counter.get("/console/check-in", params={"q": "+351 912 345 678"})
    assert "Angela Moreira" in by_phone.text


def test_a_card_of_another_location_is_not_found_and_no_visit_is_recorded(
    runtime: Runtime, counter: TestClient
) -> None:
    cid = enrol(runtime, "CAFE-PORTO", first_name="Secret", card_number="RG-PORTO-1")
    answer = scan(counter, "RG-PORTO-1")
    assert answer.status_code == 404
    assert "Secret" not in answer.text
    assert events_of(runtime, cid, "visit") == []
    by_id = counter.post(
        "/console/check-in",
        data={"csrf_token": csrf(counter), "customer_id": str(cid), "key": "x"},
        headers={"Accept": "text/html"},
    )
    assert by_id.status_code == 404
    assert "Secret" not in by_id.text


def test_a_name_with_markup_is_shown_as_text_at_the_counter(
    runtime: Runtime, counter: TestClient
) -> None:
    enrol(runtime, first_name=EVIL, card_number="RG-EVIL")
    answer = scan(counter, "RG-EVIL")
    assert EVIL not in answer.text
    assert "&lt;script&gt;" in answer.text
    listed = counter.get("/console/check-in", params={"q": "<script"})
    assert EVIL not in listed.text


@pytest.mark.parametrize("token", [None, "forged"])
def test_a_check_in_without_the_right_csrf_token_is_refused(
    runtime: Runtime, counter: TestClient, token: str | None
) -> None:
    cid = enrol(runtime, card_number="RG-0004")
    del counter.headers["X-CSRF-Token"]
    data = {"card": "RG-0004"} | ({"csrf_token": token} if token else {})
    assert counter.post("/console/check-in", data=data).status_code == 403
    assert events_of(runtime, cid, "visit") == []


def test_an_empty_scan_or_a_malformed_card_is_explained(counter: TestClient) -> None:
    empty = counter.post("/console/check-in", data={"csrf_token": csrf(counter), "card": " "})
    assert empty.status_code == 422
    assert "scan or type a card number" in empty.text
    odd = scan(counter, "!!")
    assert odd.status_code == 422
    assert "card_number" in odd.text


def test_consent_ticked_at_enrolment_is_recorded_as_given_at_the_counter(
    runtime: Runtime, counter: TestClient
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    counter.post(
        "/console/enrol",
        data={
            "csrf_token": csrf(counter),
            "card_number": "RG-NEW-7",
            "first_name": "Clara",
            "email": "clara@example.com",
            "consent": ["email"],
        },
    )
    found = queries.search_customers(runtime.uow(), CLI, card_number="RG-NEW-7")
    view = queries.customer_360(runtime.uow(), CLI, found[0].id)
    assert [(c.channel, c.granted, c.source) for c in view.consents] == [("email", True, "counter")]


def test_a_members_tier_is_shown_beside_the_name_at_the_counter(
    runtime: Runtime, counter: TestClient
) -> None:
    from regulars.services import loyalty
    from tests.loyalty_support import program_text

    ensure_location(runtime, "CAFE-LIS")
    loyalty.load_program_file(runtime.uow(), CLI, program_text("cafe"), now=runtime.now())
    cid = enrol(runtime, card_number="RG-GOLD")
    loyalty.enrol(runtime.uow(), CLI, cid, "cafe", now=runtime.now())
    answer = scan(counter, "RG-GOLD")
    assert re.search(r'Angela Moreira <span class="badge good">[^<]+</span>', answer.text)


def _anniversary_prompt(runtime: Runtime, customer_id: int) -> int:
    today = runtime.now().date()
    with runtime.engine.begin() as conn:
        return int(
            conn.execute(
                insert(staff_tasks)
                .values(
                    customer_id=customer_id,
                    kind="in_person",
                    moment="anniversary",
                    due_on=today,
                    valid_until=today + timedelta(days=6),
                    summary="a year with us today: thank her",
                    created_at=runtime.now(),
                )
                .returning(staff_tasks.c.id)
            ).scalar_one()
        )


def test_done_closes_a_planner_prompt_so_the_next_visit_does_not_repeat_it(
    runtime: Runtime, counter: TestClient
) -> None:
    cid = enrol(runtime, card_number="RG-0100")
    task = _anniversary_prompt(runtime, cid)
    answer = scan(counter, "RG-0100")
    assert "Mention: a year with us today: thank her" in answer.text
    action = re.search(r'action="(/console/check-in/\d+/greeted)"', answer.text)
    assert action, "the prompt has a button"
    assert 'name="moment" value="anniversary"' in answer.text

    done = tap_greeted(counter, answer, action.group(1), "anniversary")

    assert done.status_code == 200
    with runtime.engine.connect() as conn:
        status = conn.scalar(select(staff_tasks.c.status).where(staff_tasks.c.id == task))
    assert status == "done"
    later = scan(counter, "RG-0100", key="k2")
    assert "a year with us today" not in later.text
