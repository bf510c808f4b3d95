"""A refused contact form comes back with what the clerk typed, not the saved values."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from regulars.bootstrap import Runtime
from regulars.domain.access import CLI
from regulars.services import customers as customer_service
from regulars.services import queries
from tests.web_fixtures import ClientFor, ensure_location


@pytest.fixture
def counter(console_client_for: ClientFor) -> TestClient:
    return console_client_for("staff", ["CAFE-LIS"])


def test_a_taken_card_number_is_refused_and_the_typed_contact_details_stay_in_the_form(
    runtime: Runtime, counter: TestClient
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    for first, card in (("Angela", "CARD-1"), ("Bruno", "CARD-2")):
        customer_service.create_customer(
            runtime.uow(),
            CLI,
            {"first_name": first, "home_location": "CAFE-LIS", "card_number": card},
            now=runtime.now(),
        )
    bruno = queries.search_customers(runtime.uow(), CLI, "CARD-2", limit=1)[0].id

    answer = counter.post(
        f"/console/customers/{bruno}/contact",
        data={
            "csrf_token": counter.headers["X-CSRF-Token"],
            "preferred_channel": "sms",
            "quiet_start": "21:00",
            "quiet_end": "08:00",
            "email": "bruno.new@example.com",
            "phone": "+351 912 000 111",
            "card_number": "CARD-1",
        },
    )

    assert answer.status_code == 422, answer.text
    assert 'value="bruno.new@example.com"' in answer.text
    assert 'value="CARD-1"' in answer.text
    assert 'value="21:00"' in answer.text
    assert 'value="sms" selected' in answer.text
    # the profile itself still shows what is saved
    assert queries.get_customer(runtime.uow(), CLI, bruno).email is None
