"""A refused enrolment at the counter comes back with everything the clerk typed.

One mistyped phone number and the enrolment form came back with only the card number: the
first and last name, e-mail, birthday and the ticked consents all had to be asked again,
with the customer still standing at the counter.
"""

from __future__ import annotations

import re

from regulars.bootstrap import Runtime
from regulars.domain.access import CLI
from regulars.services import queries
from tests.web_fixtures import ClientFor


def test_a_refused_enrolment_keeps_the_names_contacts_birthday_and_consents(
    runtime: Runtime, console_client_for: ClientFor
) -> None:
    clerk = console_client_for("staff", ["CAFE-LIS"])
    answer = clerk.post(
        "/console/enrol",
        data={
            "csrf_token": clerk.headers["X-CSRF-Token"],
            "card_number": "CARD-9",
            "first_name": "Marta",
            "last_name": "O'Neill",
            "phone": "12345",
            "email": "marta@example.com",
            "birthday": "1990-02-03",
            "consent": ["email"],
            "location": "CAFE-LIS",
        },
    )
    assert answer.status_code == 422
    html = answer.text
    assert "phone" in html  # the problem is named
    assert re.search(r'id="en-first"[^>]*value="Marta"', html)
    assert re.search(r'id="en-last"[^>]*value="O&#39;Neill"', html)
    assert re.search(r'id="en-phone"[^>]*value="12345"', html)
    assert re.search(r'id="en-email"[^>]*value="marta@example.com"', html)
    assert re.search(r'id="en-bday"[^>]*value="1990-02-03"', html)
    assert re.search(r'value="email" checked', html)
    assert not re.search(r'value="sms" checked', html)
    assert queries.search_customers(runtime.uow(), CLI, "Marta") == []  # nothing written


def test_the_same_enrolment_form_sent_twice_enrols_one_customer(
    runtime: Runtime, console_client_for: ClientFor
) -> None:
    """A reload of the answer page (the browser posts again) or a retried tap."""
    clerk = console_client_for("staff", ["CAFE-LIS"])
    form = clerk.post(
        "/console/check-in", data={"csrf_token": clerk.headers["X-CSRF-Token"], "card": "NEW-1"}
    ).text
    key = re.search(r'name="key" value="([^"]+)"', form.split('action="/console/enrol"')[1])
    assert key, "the enrolment form carries a one-time key"
    data = {
        "csrf_token": clerk.headers["X-CSRF-Token"],
        "first_name": "Marta",
        "location": "CAFE-LIS",
        "key": key.group(1),
    }
    first = clerk.post("/console/enrol", data=data)
    again = clerk.post("/console/enrol", data=data)
    assert first.status_code == again.status_code == 200
    assert "Marta" in again.text
    assert len(queries.search_customers(runtime.uow(), CLI, "Marta")) == 1
