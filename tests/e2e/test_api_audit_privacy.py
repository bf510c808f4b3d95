"""The audit log for managers, and export/erase over the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from regulars.bootstrap import Runtime
from tests.web_fixtures import ClientFor, ensure_location, staff_with_password


def _customer(client: TestClient, **fields: object) -> int:
    answer = client.post("/api/v1/customers", json={"first_name": "Ana", **fields})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["profile"]["id"])


def test_a_manager_browses_who_changed_what_with_before_and_after(
    api_client: TestClient, client_for: ClientFor, runtime: Runtime
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    cid = _customer(api_client, home_location="CAFE-LIS", city="Lisbon")
    api_client.patch(f"/api/v1/customers/{cid}", json={"city": "Porto"})
    manager = client_for("manager", ["CAFE-LIS"])

    answer = manager.get("/api/v1/audit", params={"entity": "customer", "entity_id": str(cid)})

    assert answer.status_code == 200
    entries = answer.json()["items"]
    assert [e["action"] for e in entries] == ["customer.update", "customer.create"]
    assert entries[0]["before"] == {"city": "Lisbon"}
    assert entries[0]["after"]["city"] == "Porto"


def test_the_audit_log_pages_and_filters_by_actor_and_date(
    api_client: TestClient, runtime: Runtime
) -> None:
    for n in range(5):
        _customer(api_client, first_name=f"P{n}")
    me = api_client.get("/api/v1/me").json()
    label = f"api_key:{me['id']}"
    first = api_client.get("/api/v1/audit", params={"by": label, "limit": 3}).json()
    rest = api_client.get(
        "/api/v1/audit", params={"by": label, "limit": 3, "cursor": first["next_cursor"]}
    ).json()
    assert len(first["items"]) == 3
    assert len(rest["items"]) == 2
    assert rest["next_cursor"] is None
    future = api_client.get("/api/v1/audit", params={"since": "2030-01-01T00:00:00+00:00"})
    assert future.json()["items"] == []


def test_staff_and_reps_cannot_read_the_audit_log(client_for: ClientFor, runtime: Runtime) -> None:
    ensure_location(runtime, "CAFE-LIS")
    for role in ("staff", "rep"):
        answer = client_for(role, ["CAFE-LIS"]).get("/api/v1/audit")
        assert answer.status_code == 403


def test_a_manager_sees_only_the_audit_of_their_own_locations_customers(
    api_client: TestClient, client_for: ClientFor, runtime: Runtime
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    ensure_location(runtime, "CAFE-POR")
    _customer(api_client, home_location="CAFE-LIS")
    theirs = _customer(api_client, home_location="CAFE-POR", first_name="Otto")
    entries = client_for("manager", ["CAFE-LIS"]).get("/api/v1/audit").json()["items"]
    assert entries
    assert all(e["entity"] == "customer" for e in entries)
    assert str(theirs) not in {e["entity_id"] for e in entries}


def test_export_and_erase_over_the_api(api_client: TestClient) -> None:
    cid = _customer(api_client, last_name="Moreira", email="ana@example.com")

    export = api_client.get(f"/api/v1/customers/{cid}/export")
    assert export.status_code == 200
    assert export.json()["profile"]["email"] == "ana@example.com"

    unconfirmed = api_client.post(f"/api/v1/customers/{cid}/erase", json={})
    assert unconfirmed.status_code == 422
    assert unconfirmed.json()["error"]["field"] == "confirm"

    erased = api_client.post(f"/api/v1/customers/{cid}/erase", json={"confirm": True})
    assert erased.json() == {"id": cid, "status": "erased"}
    profile = api_client.get(f"/api/v1/customers/{cid}").json()["profile"]
    assert profile["status"] == "erased"
    assert profile["email"] is None
    again = api_client.post(f"/api/v1/customers/{cid}/erase", json={"confirm": True})
    assert again.status_code == 409


def test_a_staff_key_cannot_export_or_erase(
    api_client: TestClient, client_for: ClientFor, runtime: Runtime
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    cid = _customer(api_client, home_location="CAFE-LIS")
    staff = client_for("staff", ["CAFE-LIS"])
    assert staff.get(f"/api/v1/customers/{cid}/export").status_code == 403
    assert staff.post(f"/api/v1/customers/{cid}/erase", json={"confirm": True}).status_code == 403


def test_api_keys_are_issued_shown_once_listed_without_secret_and_revoked(
    api_client: TestClient, app: object
) -> None:
    created = api_client.post(
        "/api/v1/api-keys", json={"name": "till", "permissions": ["events:write"]}
    )
    assert created.status_code == 201
    key = created.json()["key"]
    listed = api_client.get("/api/v1/api-keys").json()
    assert key not in str(listed)
    till = TestClient(app, headers={"Authorization": f"Bearer {key}"})  # type: ignore[arg-type]
    assert till.get("/api/v1/me").status_code == 200
    assert api_client.delete(f"/api/v1/api-keys/{created.json()['id']}").status_code == 204
    assert till.get("/api/v1/me").status_code == 401


def test_a_manager_cannot_issue_a_key_reaching_beyond_their_locations(
    client_for: ClientFor, runtime: Runtime
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    ensure_location(runtime, "CAFE-POR")
    manager = client_for("manager", ["CAFE-LIS"])
    wide = manager.post("/api/v1/api-keys", json={"name": "x"})
    other = manager.post("/api/v1/api-keys", json={"name": "x", "locations": ["CAFE-POR"]})
    owner = manager.post(
        "/api/v1/api-keys", json={"name": "x", "locations": ["CAFE-LIS"], "role": "owner"}
    )
    assert wide.status_code == other.status_code == owner.status_code == 403
    staff = client_for("staff", ["CAFE-LIS"])
    assert staff.post("/api/v1/api-keys", json={"name": "x"}).status_code == 403


def test_the_staff_list_shows_people_and_their_locations_but_not_their_passwords(
    api_client: TestClient, runtime: Runtime
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    staff_with_password(runtime, "rep", ["CAFE-LIS"], email="rita@example.com")

    listed = api_client.get("/api/v1/staff")

    assert listed.status_code == 200
    rita = next(s for s in listed.json() if s["email"] == "rita@example.com")
    assert rita["locations"] == ["CAFE-LIS"] and rita["role"] == "rep" and rita["active"]
    assert set(rita) == {"id", "email", "name", "role", "locations", "active"}
