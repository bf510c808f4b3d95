"""A key limited to one location and to reading answers no write and nothing of elsewhere.

The routes are walked from the OpenAPI schema, so routes added later by any area are covered.
The key is a manager's (the widest role below owner) limited to CAFE-LIS and to the ``:read``
permissions; every write, every route needing a permission it lacks, and every route about a
CAFE-POR customer must answer something other than 2xx.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from regulars.bootstrap import Runtime
from regulars.services.access import PERMISSIONS
from tests.e2e.test_authorization_matrix import _build_world, _fill
from tests.web_fixtures import ClientFor

READ_ONLY = sorted(p for p in PERMISSIONS if p.endswith(":read") and p != "audit:read")
MUTATING = {"post", "put", "patch", "delete"}

#: Valid bodies, so that a write is refused for the key's reach and not merely for a body
#: that fails validation first (an empty body answers 422 before any permission check).
BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/customers": {"first_name": "Zed", "last_name": "Probe", "home_location": "CAFE-LIS"},
    "/api/v1/customers/{customer_id}": {"city": "Porto"},
    "/api/v1/customers/{customer_id}/household-members": {"name": "Spouse"},
    "/api/v1/customers/{customer_id}/assets": {"kind": "car", "label": "Golf"},
    "/api/v1/customers/{customer_id}/preferences": {"label": "milk", "value": "oat"},
    "/api/v1/customers/{customer_id}/consents": {
        "channel": "email",
        "granted": False,
        "at": "2026-04-30T10:00:00+00:00",
    },
    "/api/v1/customers/{customer_id}/merge": {"duplicate_id": 1},
    "/api/v1/customers/{customer_id}/erase": {"confirm": True},
    "/api/v1/customers/{customer_id}/loyalty/enrolment": {"program": "cafe"},
    "/api/v1/customers/{customer_id}/loyalty/double-points-day": {
        "program": "cafe",
        "day": "2026-05-02",
    },
    "/api/v1/customers/{customer_id}/redemptions": {"reward": "coffee"},
    "/api/v1/customers/{customer_id}/goodwill": {"points": 10, "reason": "sorry"},
    "/api/v1/events": {
        "type": "note",
        "source": "till",
        "external_id": "walk-1",
        "occurred_at": "2026-04-30T10:00:00+01:00",
        "customer_id": 1,
        "text": "walked",
    },
}


def _body(path: str, customer: int) -> dict[str, Any]:
    """The valid body for a write, about ``customer`` where it names one."""
    body = dict(BODIES.get(path, {}))
    if "customer_id" in body:
        body["customer_id"] = customer
    return body


def _operations(app: FastAPI) -> list[tuple[str, str]]:
    """Every documented operation, deletions last (so the others run with the key alive)."""
    schema: dict[str, Any] = app.openapi()
    found = [
        (method, path)
        for path, item in schema["paths"].items()
        for method in item
        if method in MUTATING | {"get"}
    ]
    return sorted(found, key=lambda op: op[0] == "delete")


def test_a_read_only_key_of_one_location_changes_nothing_and_reaches_no_other_location(
    app: FastAPI, api_client: TestClient, runtime: Runtime, client_for: ClientFor
) -> None:
    world = _build_world(api_client, runtime)
    till = client_for("staff", ["CAFE-LIS"])
    till_key = till.get("/api/v1/me").json()["id"]
    key = client_for("manager", ["CAFE-LIS"], READ_ONLY)
    assert key.get(f"/api/v1/customers/{world.mine}").status_code == 200
    reached = []
    for method, path in _operations(app):
        url = _fill(path, world, till_key)
        body = _body(path, world.theirs) if method in MUTATING else None
        answer = key.request(method.upper(), url, json=body)
        outside = "{customer_id}" in path or path.startswith(("/api/v1/audit",))
        if (method in MUTATING or outside or "export" in path) and answer.is_success:
            reached.append(f"{method.upper()} {path}: {answer.status_code}")
        assert answer.status_code < 500, f"{method} {path}: {answer.text[:200]}"
    assert reached == []
    assert till.get(f"/api/v1/customers/{world.mine}").status_code == 200


def test_a_read_only_key_of_one_location_cannot_write_to_its_own_customers(
    app: FastAPI, api_client: TestClient, runtime: Runtime, client_for: ClientFor
) -> None:
    world = _build_world(api_client, runtime)
    key = client_for("manager", ["CAFE-LIS"], READ_ONLY)
    wrote = []
    for method, path in _operations(app):
        if method not in MUTATING:
            continue
        url = re.sub(r"\{customer_id\}", str(world.mine), path)
        url = re.sub(r"\{[^}]+\}", "1", url)
        answer = key.request(method.upper(), url, json=_body(path, world.mine))
        if answer.is_success:
            wrote.append(f"{method.upper()} {path}: {answer.status_code}")
    assert wrote == []
