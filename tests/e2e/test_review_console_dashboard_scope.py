"""The dashboard narrowed to one location counts only that location, in every chart."""

from __future__ import annotations

from fastapi.testclient import TestClient

from regulars.bootstrap import Runtime
from regulars.domain.access import CLI
from regulars.services import customers as customer_service
from regulars.services import loyalty
from tests.loyalty_support import program_text
from tests.web_fixtures import ClientFor, ensure_location


def _members(runtime: Runtime, location: str, count: int) -> None:
    for n in range(count):
        cid = customer_service.create_customer(
            runtime.uow(),
            CLI,
            {"first_name": f"{location} {n}", "home_location": location},
            now=runtime.now(),
        )
        loyalty.enrol(runtime.uow(), CLI, cid, "cafe", now=runtime.now())


def test_members_enrolled_vs_active_counts_only_the_location_chosen(
    runtime: Runtime, console_client_for: ClientFor
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    ensure_location(runtime, "CAFE-LON")
    loyalty.load_program_file(runtime.uow(), CLI, program_text("cafe"), now=runtime.now())
    _members(runtime, "CAFE-LIS", 2)
    _members(runtime, "CAFE-LON", 3)
    manager: TestClient = console_client_for("manager", ["CAFE-LIS", "CAFE-LON"])
    both = manager.get("/console/dashboard").text
    assert "Café Regulars: 5 enrolled" in both
    lisbon = manager.get("/console/dashboard", params={"location": "CAFE-LIS"}).text
    assert "Today at Location CAFE-LIS" in lisbon
    assert "Café Regulars: 2 enrolled" in lisbon
    assert "5 enrolled" not in lisbon
