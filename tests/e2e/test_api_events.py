"""``POST /api/v1/events``: a verdict per item, bad input named by field, nothing partial."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from regulars.bootstrap import Runtime
from regulars.store.tables import events
from tests import factories
from tests.web_fixtures import ClientFor, ensure_location


def _events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(events)) or 0)


def _customer(client: TestClient, **fields: Any) -> int:
    answer = client.post("/api/v1/customers", json={"first_name": "Ana", **fields})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["profile"]["id"])


def test_one_event_is_created_then_reported_as_a_duplicate(
    api_client: TestClient, engine: Engine
) -> None:
    cid = _customer(api_client)
    event = factories.purchase("r1", customer_id=cid)

    first = api_client.post("/api/v1/events", json=event)
    again = api_client.post("/api/v1/events", json=event)

    assert first.status_code == 201
    assert first.json()["results"][0]["status"] == "created"
    assert again.status_code == 200
    assert again.json()["results"][0]["status"] == "duplicate"
    assert _events(engine) == 1


def test_a_batch_writes_the_good_items_and_names_the_field_of_each_bad_one(
    api_client: TestClient, engine: Engine
) -> None:
    cid = _customer(api_client, card_number="C-100")
    batch = [
        factories.purchase("ok1", customer_id=cid),
        {"type": "teleport", "source": "pos", "external_id": "x", "customer_id": cid},
        factories.purchase("unknown", customer_id=cid + 999),
        factories.purchase("naive", at="2026-04-30T10:00:00", customer_id=cid),
        factories.purchase("impossible", at="2026-04-31T10:00:00+01:00", customer_id=cid),
        factories.purchase(
            "negative",
            customer_id=cid,
            lines=[{"sku": "latte", "quantity": -1, "unit_price": 350}],
        ),
        factories.purchase("ok2", card_number="c-100"),
        "not an object",
    ]

    answer = api_client.post("/api/v1/events", json=batch)

    assert answer.status_code == 200
    body = answer.json()
    assert [r["status"] for r in body["results"]] == [
        "created",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "created",
        "rejected",
    ]
    fields = [(r["errors"] or [{}])[0].get("field") for r in body["results"]]
    assert fields[1] == "type"
    assert fields[2] == "customer_id"
    assert fields[3] == "occurred_at"
    assert fields[4] == "occurred_at"
    assert fields[5] == "lines.0.quantity"
    assert (body["created"], body["rejected"]) == (2, 6)
    assert _events(engine) == 2


def test_a_single_bad_event_is_a_422_naming_the_field_and_writes_nothing(
    api_client: TestClient, engine: Engine
) -> None:
    answer = api_client.post("/api/v1/events", json=factories.purchase("x", customer_id=424242))
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "customer_id"
    assert _events(engine) == 0


def test_malformed_json_and_empty_batches_are_refused(api_client: TestClient) -> None:
    broken = api_client.post(
        "/api/v1/events", content=b"[{", headers={"content-type": "application/json"}
    )
    empty = api_client.post("/api/v1/events", json=[])
    scalar = api_client.post("/api/v1/events", json=42)
    assert broken.status_code == 422
    assert "JSON" in broken.json()["error"]["message"]
    assert empty.status_code == 422
    assert scalar.status_code == 422


def test_a_batch_above_the_limit_is_refused_whole(api_client: TestClient, engine: Engine) -> None:
    cid = _customer(api_client)
    batch = [factories.purchase(f"b{n}", customer_id=cid) for n in range(1001)]
    answer = api_client.post("/api/v1/events", json=batch)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "events"
    assert _events(engine) == 0


def test_a_key_cannot_add_events_for_another_locations_customer(
    api_client: TestClient, client_for: ClientFor, runtime: Runtime, engine: Engine
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    ensure_location(runtime, "CAFE-POR")
    mine = _customer(api_client, home_location="CAFE-LIS", card_number="C-LIS1")
    theirs = _customer(api_client, home_location="CAFE-POR", card_number="C-POR1")
    till = client_for("staff", ["CAFE-LIS"], ["events:write"])

    answer = till.post(
        "/api/v1/events",
        json=[
            factories.purchase("a", customer_id=mine, location="CAFE-LIS"),
            factories.purchase("b", customer_id=theirs),
            factories.purchase("c", card_number="C-POR1"),
            factories.purchase("d", customer_id=mine, location="CAFE-POR"),
        ],
    )

    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "rejected"]
    assert results[1]["errors"][0] == {"field": "customer_id", "message": "no such customer"}
    assert results[2]["errors"][0]["field"] == "card_number"
    assert results[3]["errors"][0]["field"] == "location"
    assert _events(engine) == 1


def test_a_key_without_the_events_permission_is_forbidden(
    api_client: TestClient, client_for: ClientFor
) -> None:
    cid = _customer(api_client)
    reader = client_for("owner", None, ["customers:read"])
    answer = reader.post("/api/v1/events", json=factories.purchase("p", customer_id=cid))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "forbidden"


def test_a_replayed_batch_with_its_idempotency_key_gets_the_first_answer(
    api_client: TestClient, engine: Engine
) -> None:
    cid = _customer(api_client)
    batch = [factories.purchase("i1", customer_id=cid)]
    headers = {"Idempotency-Key": "batch-1"}
    first = api_client.post("/api/v1/events", json=batch, headers=headers)
    again = api_client.post("/api/v1/events", json=batch, headers=headers)
    assert again.json() == first.json()
    assert again.json()["results"][0]["status"] == "created"
    assert _events(engine) == 1
