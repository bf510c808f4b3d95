"""``/api/v1/outbox``: operators see what waits or failed and send a dead message again."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from regulars.bootstrap import Runtime
from regulars.store.outbox_tables import outbox
from tests import factories
from tests.delivery_data import queue_tier_up
from tests.web_fixtures import ClientFor, ensure_location


def _dead_message(runtime: Runtime, now: datetime, location: str = "CAFE-LIS") -> str:
    ensure_location(runtime, location)
    cid = factories.customer(runtime.engine, now, email="ana@example.com", home_location=location)
    key = f"tier:{cid}"
    with runtime.uow() as uow:
        queue_tier_up(uow.conn, cid, now, key)
        uow.conn.execute(
            update(outbox)
            .where(outbox.c.key == key)
            .values(status="dead", attempts=6, last_error="gave up after 6 attempts")
        )
        uow.commit()
    return key


def test_an_owner_sees_the_dead_letters_and_sends_one_again(
    api_client: TestClient, runtime: Runtime, now: datetime
) -> None:
    key = _dead_message(runtime, now)
    listed = api_client.get("/api/v1/outbox", params={"status": "dead"})
    assert listed.status_code == 200
    body = listed.json()
    assert body["counts"] == {"dead": 1}
    assert [m["key"] for m in body["messages"]] == [key]
    assert body["messages"][0]["last_error"] == "gave up after 6 attempts"

    retried = api_client.post(f"/api/v1/outbox/{key}/retry")
    assert retried.status_code == 200 and retried.json() == {"key": key, "status": "queued"}
    again = api_client.post(f"/api/v1/outbox/{key}/retry")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert api_client.get("/api/v1/outbox").json()["counts"] == {"queued": 1}


def test_staff_may_look_but_only_managers_send_again(
    client_for: ClientFor, runtime: Runtime, now: datetime
) -> None:
    key = _dead_message(runtime, now)
    clerk = client_for("staff", ["CAFE-LIS"])
    assert clerk.get("/api/v1/outbox").json()["counts"] == {"dead": 1}
    assert clerk.post(f"/api/v1/outbox/{key}/retry").status_code == 403


def test_a_manager_elsewhere_sees_nothing_of_another_locations_messages(
    client_for: ClientFor, runtime: Runtime, now: datetime
) -> None:
    key = _dead_message(runtime, now)
    ensure_location(runtime, "CAFE-NYC")
    elsewhere = client_for("manager", ["CAFE-NYC"])
    assert elsewhere.get("/api/v1/outbox").json() == {"counts": {}, "messages": []}
    assert elsewhere.post(f"/api/v1/outbox/{key}/retry").status_code == 404


def test_bad_requests_name_what_is_wrong(api_client: TestClient) -> None:
    wrong_status = api_client.get("/api/v1/outbox", params={"status": "lost"})
    assert wrong_status.status_code == 422
    assert wrong_status.json()["error"]["field"] == "status"
    assert api_client.get("/api/v1/outbox", params={"limit": 0}).status_code == 422
    assert api_client.post("/api/v1/outbox/no-such-key/retry").status_code == 404
    assert TestClient(api_client.app).get("/api/v1/outbox").status_code == 401


def test_a_message_shows_its_send_log_from_claim_to_answer(
    api_client: TestClient, client_for: ClientFor, runtime: Runtime, now: datetime
) -> None:
    from regulars.channels.base import SendResult
    from regulars.channels.fake import FakeChannel
    from regulars.services.outbox import deliver_outbox
    from tests.delivery_data import member_with_message

    ensure_location(runtime, "CAFE-LIS")
    member_with_message(runtime.engine, now, key="tier:ana")
    email = FakeChannel("email", script={"ana@example.com": [SendResult.transient("451 busy")]})
    deliver_outbox(runtime.uow(), {"email": email}, now=now, worker_id="w1")
    deliver_outbox(runtime.uow(), {"email": email}, now=now + timedelta(hours=1), worker_id="w2")

    shown = api_client.get("/api/v1/outbox/tier:ana")
    assert shown.status_code == 200
    body = shown.json()
    assert body["status"] == "sent" and body["attempts"] == 2 and body["template"] == "tier_up"
    assert [(e["attempt"], e["worker_id"], e["outcome"]) for e in body["log"]] == [
        (1, "w1", "transient"),
        (2, "w2", "sent"),
    ]
    assert body["log"][0]["detail"] == "451 busy"
    ensure_location(runtime, "CAFE-NYC")
    assert client_for("manager", ["CAFE-NYC"]).get("/api/v1/outbox/tier:ana").status_code == 404
    assert api_client.get("/api/v1/outbox/nothing-here").status_code == 404
