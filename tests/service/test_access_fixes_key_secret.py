"""A new API key's secret is shown once, even when the request carried an Idempotency-Key."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from regulars.bootstrap import Runtime
from regulars.store.tables import idempotency_keys
from tests.web_fixtures import ensure_location


def test_a_retried_key_request_names_the_key_made_but_never_stores_or_repeats_its_secret(
    app: FastAPI, api_client: TestClient, runtime: Runtime
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    request = {"name": "till", "locations": ["CAFE-LIS"]}
    first = api_client.post("/api/v1/api-keys", headers={"Idempotency-Key": "k1"}, json=request)
    assert first.status_code == 201, first.text
    made = first.json()

    retry = api_client.post("/api/v1/api-keys", headers={"Idempotency-Key": "k1"}, json=request)

    assert retry.status_code == 409
    assert retry.json()["error"]["field"] == "Idempotency-Key"
    assert f"API key {made['id']}" in retry.json()["error"]["message"]
    assert made["key"] not in retry.text
    with runtime.engine.connect() as conn:
        kept = [str(answer) for answer in conn.scalars(select(idempotency_keys.c.response))]
    assert kept and not any(made["key"] in answer for answer in kept)
    tills = [k for k in api_client.get("/api/v1/api-keys").json() if k["name"] == "till"]
    assert [k["id"] for k in tills] == [made["id"]]
    with TestClient(app, headers={"Authorization": f"Bearer {made['key']}"}) as till:
        assert till.get("/api/v1/me").status_code == 200
