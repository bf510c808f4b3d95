"""An event dated years ahead (a till's clock gone wrong) is refused, naming occurred_at."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from regulars.store.tables import customers
from tests import factories


def test_a_purchase_dated_years_ahead_is_refused_and_leaves_the_last_purchase_alone(
    api_client: TestClient, engine: Engine
) -> None:
    answer = api_client.post("/api/v1/customers", json={"first_name": "Ana"})
    cid = int(answer.json()["profile"]["id"])
    today = factories.purchase("r1", customer_id=cid, at="2026-05-01T07:40:00+01:00")
    ahead = factories.purchase("r2", customer_id=cid, at="2062-05-01T07:40:00+01:00")

    single = api_client.post("/api/v1/events", json=ahead)
    batch = api_client.post("/api/v1/events", json=[today, ahead])

    assert single.status_code == 422, single.text
    assert single.json()["error"]["field"] == "occurred_at"
    assert [r["status"] for r in batch.json()["results"]] == ["created", "rejected"]
    with engine.connect() as conn:
        last = conn.scalar(select(customers.c.last_purchase_at).where(customers.c.id == cid))
    assert last is not None and last.year == 2026
