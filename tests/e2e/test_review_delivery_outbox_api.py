"""``POST /api/v1/outbox/{key}/retry`` retried by an integration after a lost answer."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from regulars.bootstrap import Runtime
from regulars.store.tables import audit_log
from tests.e2e.test_delivery_outbox_api import _dead_message


def test_a_retry_sent_again_with_the_same_idempotency_key_gets_the_first_answer(
    api_client: TestClient, runtime: Runtime, now: datetime
) -> None:
    key = _dead_message(runtime, now)
    headers = {"Idempotency-Key": "requeue-0001"}

    first = api_client.post(f"/api/v1/outbox/{key}/retry", headers=headers)
    again = api_client.post(f"/api/v1/outbox/{key}/retry", headers=headers)

    assert first.status_code == 200 and first.json() == {"key": key, "status": "queued"}
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    with runtime.engine.connect() as conn:
        requeues = conn.scalar(select(func.count()).where(audit_log.c.action == "outbox.requeue"))
    assert requeues == 1
