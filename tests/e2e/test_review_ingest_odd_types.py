"""``POST /api/v1/events`` with a ``type`` that is not text: a named 422, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("kind", [["purchase"], {"name": "purchase"}, 7, True])
def test_an_event_whose_type_is_not_text_is_refused_by_field(
    api_client: TestClient, kind: Any
) -> None:
    event = {"type": kind, "source": "pos", "external_id": "x1", "customer_id": 1}

    single = api_client.post("/api/v1/events", json=event)
    batch = api_client.post("/api/v1/events", json=[event])

    assert single.status_code == 422, single.text
    assert single.json()["error"]["field"] == "type"
    assert batch.status_code == 200, batch.text
    (verdict,) = batch.json()["results"]
    assert verdict["status"] == "rejected"
    assert verdict["errors"][0]["field"] == "type"
