"""The planner's API: bad input named by field, other locations invisible, retries harmless."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from regulars.services.planning import plan_day
from regulars.store.planner_tables import staff_tasks
from regulars.store.tables import events
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.web_fixtures import ClientFor

SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)


def _two_shops(engine: Engine) -> int:
    factories.location(engine, SIX, code="CAFE-LIS", kind="cafe")
    factories.location(engine, SIX, code="CAFE-POR", kind="cafe", city="Porto")
    return factories.customer(
        engine,
        SIX,
        first_name="Inês",
        birthday="1991-05-01",
        card_number="CAFE-77",
        home_location="CAFE-LIS",
    )


def test_a_check_in_without_a_customer_or_location_names_the_field(
    engine: Engine, api_client: TestClient
) -> None:
    _two_shops(engine)

    no_one = api_client.post("/api/v1/check-ins", json={"location": "CAFE-LIS"})
    nowhere = api_client.post("/api/v1/check-ins", json={"card_number": "CAFE-77", "location": "X"})
    naive = api_client.post(
        "/api/v1/check-ins",
        json={"card_number": "CAFE-77", "location": "CAFE-LIS", "at": "2026-05-01T09:40:00"},
    )
    unknown = api_client.post(
        "/api/v1/check-ins", json={"card_number": "NOPE-1", "location": "CAFE-LIS"}
    )

    assert no_one.status_code == 422
    assert nowhere.status_code == 422 and nowhere.json()["error"]["field"] == "location"
    assert naive.status_code == 422 and naive.json()["error"]["field"] == "at"
    assert unknown.status_code == 404


def test_a_retried_check_in_is_one_visit(engine: Engine, api_client: TestClient) -> None:
    _two_shops(engine)
    body = {"card_number": "cafe-77", "location": "CAFE-LIS", "request_id": "till-9:0001"}

    first = api_client.post("/api/v1/check-ins", json=body)
    again = api_client.post("/api/v1/check-ins", json=body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["checkin_id"] == again.json()["checkin_id"]
    assert again.json()["birthday_today"] is True
    with engine.connect() as conn:
        visits = conn.scalar(select(func.count()).where(events.c.type == "visit"))
    assert visits == 1


def test_staff_of_another_location_see_neither_the_customer_nor_their_tasks(
    engine: Engine, client_for: ClientFor
) -> None:
    _two_shops(engine)
    plan_day(UnitOfWork(engine), day=date(2026, 5, 1), now=SIX)
    with engine.connect() as conn:
        task_id = conn.scalar(select(staff_tasks.c.id))
    porto = client_for("staff", ["CAFE-POR"])

    assert porto.get(f"/api/v1/tasks/{task_id}/brief").status_code == 404
    assert porto.get("/api/v1/tasks").json()["tasks"] == []
    assert porto.get("/api/v1/plan", params={"date": "2026-05-01"}).json()["decisions"] == []
    lisbon_plan = porto.get("/api/v1/plan", params={"date": "2026-05-01", "location": "CAFE-LIS"})
    assert lisbon_plan.status_code == 403, "not an empty plan that reads as 'nothing planned'"
    assert lisbon_plan.json()["error"]["field"] == "location"
    check_in = porto.post(
        "/api/v1/check-ins", json={"card_number": "CAFE-77", "location": "CAFE-LIS"}
    )
    assert check_in.status_code == 403
    greeted = porto.post("/api/v1/check-ins/999/greeted", json={})
    assert greeted.status_code == 404


def test_a_key_without_planner_permission_cannot_read_the_plan(
    engine: Engine, client_for: ClientFor
) -> None:
    _two_shops(engine)
    reader = client_for("staff", ["CAFE-LIS"], permissions=["customers:read"])

    assert reader.get("/api/v1/plan").status_code == 403
    assert reader.get("/api/v1/tasks").status_code == 403


def test_a_key_for_sending_events_cannot_list_the_staff(
    engine: Engine, client_for: ClientFor
) -> None:
    """Colleagues' names and e-mails are personal data; a till's key has no use for them."""
    _two_shops(engine)
    factories.staff(engine, SIX, email="rita@example.com", locations=["CAFE-LIS"])
    till = client_for("staff", ["CAFE-LIS"], permissions=["events:write"])
    manager = client_for("manager", ["CAFE-LIS"])

    assert till.get("/api/v1/staff").status_code == 403
    assert [s["email"] for s in manager.get("/api/v1/staff").json()] == ["rita@example.com"]
