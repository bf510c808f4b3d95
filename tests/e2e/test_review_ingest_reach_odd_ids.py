"""A key limited to its locations cannot reach another location's customer by spelling the id
as text or as a number with a point: the id the event will carry is the one checked."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from regulars.bootstrap import Runtime
from regulars.store.tables import events
from tests.web_fixtures import ClientFor, ensure_location


def _events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(events)) or 0)


@pytest.mark.parametrize("spelt", [str, float])
def test_another_locations_customer_id_spelt_oddly_is_still_no_such_customer(
    api_client: TestClient,
    client_for: ClientFor,
    runtime: Runtime,
    engine: Engine,
    spelt: Any,
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    ensure_location(runtime, "CAFE-POR")
    answer = api_client.post(
        "/api/v1/customers", json={"first_name": "Rui", "home_location": "CAFE-POR"}
    )
    theirs = int(answer.json()["profile"]["id"])
    till = client_for("staff", ["CAFE-LIS"], ["events:write"])
    note = {
        "type": "note",
        "source": "till-lis",
        "external_id": "n1",
        "occurred_at": "2026-04-30T10:00:00+01:00",
        "customer_id": spelt(theirs),
        "text": "Looked up by someone who may not",
    }

    single = till.post("/api/v1/events", json=note)
    batch = till.post("/api/v1/events", json=[note])

    assert single.status_code == 422, single.text
    assert single.json()["error"]["field"] == "customer_id"
    assert batch.json()["results"][0]["status"] == "rejected"
    assert _events(engine) == 0


def test_another_location_spelt_with_spaces_is_still_not_yours(
    api_client: TestClient, client_for: ClientFor, runtime: Runtime, engine: Engine
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    ensure_location(runtime, "CAFE-POR")
    answer = api_client.post(
        "/api/v1/customers", json={"first_name": "Ana", "home_location": "CAFE-LIS"}
    )
    mine = int(answer.json()["profile"]["id"])
    till = client_for("staff", ["CAFE-LIS"], ["events:write"])
    visit = {
        "type": "visit",
        "source": "till-lis",
        "external_id": "v1",
        "occurred_at": "2026-04-30T10:00:00+01:00",
        "customer_id": mine,
        "location": " CAFE-POR ",
    }

    single = till.post("/api/v1/events", json=visit)

    assert single.status_code == 422, single.text
    assert single.json()["error"]["field"] == "location"
    assert _events(engine) == 0
