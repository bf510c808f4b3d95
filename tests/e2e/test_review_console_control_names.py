"""The buttons staff press most say, to a screen reader, what they act on.

Two prompts at the counter each had a button called just "Greeted"; the consent table had
four "Give" buttons; the approvals list had an "Approve" per request. Read out of context
(a screen reader's list of buttons, or tabbing through) they all sounded the same.
"""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient

from regulars.bootstrap import Runtime
from regulars.domain.access import CLI
from regulars.services import customers as customer_service
from regulars.services import loyalty
from tests.loyalty_support import program_text
from tests.web_fixtures import ClientFor, ensure_location


def button_names(html: str) -> list[str]:
    """Each button's accessible name: its text, hidden helper text included, tags dropped."""
    names = []
    for inner in re.findall(r"<button[^>]*>(.*?)</button>", html, flags=re.S):
        names.append(" ".join(unescape(re.sub(r"<[^>]+>", "", inner)).split()))
    return names


def test_each_greeted_button_at_the_counter_names_the_prompt_it_closes(
    runtime: Runtime, console_client_for: ClientFor
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    cid = customer_service.create_customer(
        runtime.uow(),
        CLI,
        {
            "first_name": "Inês",
            "birthday": "1990-05-01",
            "card_number": "CARD-7",
            "home_location": "CAFE-LIS",
        },
        now=runtime.now(),
    )
    customer_service.add_household_member(
        runtime.uow(),
        CLI,
        cid,
        {"name": "Tomás", "relation": "child", "birthday": "2018-05-01"},
        now=runtime.now(),
    )
    clerk = console_client_for("staff", ["CAFE-LIS"])
    html = clerk.post(
        "/console/check-in",
        data={"csrf_token": clerk.headers["X-CSRF-Token"], "card": "CARD-7", "key": "k1"},
    ).text
    greeted = [n for n in button_names(html) if n.startswith("Greeted")]
    assert len(greeted) == 2
    assert len(set(greeted)) == 2
    assert "Inês" in greeted[0]
    assert "Tomás" in greeted[1]


def test_each_consent_button_names_its_channel(
    runtime: Runtime, console_client_for: ClientFor
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    cid = customer_service.create_customer(
        runtime.uow(), CLI, {"first_name": "Rosa", "home_location": "CAFE-LIS"}, now=runtime.now()
    )
    html = console_client_for("staff", ["CAFE-LIS"]).get(f"/console/customers/{cid}").text
    names = [n for n in button_names(html) if n.startswith(("Give", "Withdraw"))]
    assert names == [
        "Give consent for email",
        "Give consent for sms",
        "Give consent for phone",
        "Give consent for post",
    ]


def test_approve_and_decline_name_the_request_they_decide(
    runtime: Runtime, console_client_for: ClientFor
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    loyalty.load_program_file(runtime.uow(), CLI, program_text("cafe"), now=runtime.now())
    barista: TestClient = console_client_for("staff", ["CAFE-LIS"])
    for name, points in (("Angela", 300), ("Bruno", 400)):
        cid = customer_service.create_customer(
            runtime.uow(), CLI, {"first_name": name, "home_location": "CAFE-LIS"}, now=runtime.now()
        )
        barista.post(
            f"/console/customers/{cid}/goodwill",
            data={
                "csrf_token": barista.headers["X-CSRF-Token"],
                "points": points,
                "reason": "Broken cup",
                "key": f"k-{name}",
            },
        )
    html = console_client_for("manager", ["CAFE-LIS"]).get("/console/goodwill").text
    names = button_names(html)
    approve = [n for n in names if n.startswith("Approve")]
    decline = [n for n in names if n.startswith("Decline")]
    assert sorted(approve) == ["Approve 300 points for Angela", "Approve 400 points for Bruno"]
    assert sorted(decline) == ["Decline 300 points for Angela", "Decline 400 points for Bruno"]


def test_each_check_in_and_profile_control_in_search_results_names_the_customer(
    runtime: Runtime, console_client_for: ClientFor
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    for first in ("Ana", "Anabela"):
        customer_service.create_customer(
            runtime.uow(),
            CLI,
            {"first_name": first, "last_name": "Costa", "home_location": "CAFE-LIS"},
            now=runtime.now(),
        )
    html = console_client_for("staff", ["CAFE-LIS"]).get("/console/check-in?q=costa").text
    checks = [n for n in button_names(html) if n.startswith("Check in ")]
    assert sorted(checks) == ["Check in Ana Costa", "Check in Anabela Costa"]
    links = re.findall(r'<a class="button secondary" href="/console/customers/\d+">(.*?)</a>', html)
    names = sorted(" ".join(re.sub(r"<[^>]+>", "", link).split()) for link in links)
    assert names == ["Profile of Ana Costa", "Profile of Anabela Costa"]
