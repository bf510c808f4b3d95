"""Every route × every role: no answer ever carries another location's customer.

The routes are read from the app itself, so routes added later by any area are covered
without touching this file. Two locations; a customer at each, the one at CAFE-POR full of
sentinel strings. Staff, reps and managers of CAFE-LIS (by API key and by console session)
call every route with ids of the CAFE-POR customer; unauthenticated callers call them too.

- unauthenticated: 401 on the API, a redirect to /login on the console (public pages aside);
- no route answers 500;
- no answer (nor the page a redirect leads to) contains a sentinel;
- a route about ``{customer_id}`` never succeeds (2xx) for the out-of-scope customer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from regulars.bootstrap import Runtime
from tests.web_fixtures import ClientFor, ensure_location

SENTINELS = (
    "Outofscope",
    "secret-b@example.com",
    "+351960000001",
    "SECRET-B-NOTE",
    "SECRET-B-SPOUSE",
    "SECRET-B-PREF",
)

#: Pages anyone may open: the address itself (it sends on to the console), sign-in, the API
#: description, static files, unsubscribe links.
PUBLIC = re.compile(
    r"^/(|healthz|login|logout|docs|docs/oauth2-redirect|openapi\.json)$|^/console/static/|^/u/"
)
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class World:
    mine: int
    theirs: int
    their_event: int


def _build_world(api: TestClient, runtime: Runtime) -> World:
    ensure_location(runtime, "CAFE-LIS")
    ensure_location(runtime, "CAFE-POR")
    mine = api.post(
        "/api/v1/customers",
        json={"first_name": "Alma", "last_name": "Inscope", "home_location": "CAFE-LIS"},
    ).json()["profile"]["id"]
    theirs_answer = api.post(
        "/api/v1/customers",
        json={
            "first_name": "Bruno",
            "last_name": "Outofscope",
            "email": "secret-b@example.com",
            "phone": "+351960000001",
            "card_number": "C-POR-B1",
            "home_location": "CAFE-POR",
        },
    )
    assert theirs_answer.status_code == 201, theirs_answer.text
    theirs = theirs_answer.json()["profile"]["id"]
    api.post(f"/api/v1/customers/{theirs}/household-members", json={"name": "SECRET-B-SPOUSE"})
    api.put(
        f"/api/v1/customers/{theirs}/preferences",
        json={"label": "usual order", "value": "SECRET-B-PREF"},
    )
    events = api.post(
        "/api/v1/events",
        json=[
            {
                "type": "note",
                "source": "console",
                "external_id": "b-note",
                "occurred_at": "2026-04-30T10:00:00+01:00",
                "customer_id": theirs,
                "text": "SECRET-B-NOTE",
            },
            {
                "type": "visit",
                "source": "console",
                "external_id": "b-visit",
                "occurred_at": "2026-05-01T07:30:00+01:00",
                "customer_id": theirs,
                "location": "CAFE-POR",
            },
        ],
    ).json()
    return World(mine, theirs, events["results"][1]["event_id"])


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for context in iter_route_contexts(app.routes):
        path = context.path
        methods = getattr(context.original_route, "methods", None) or set()
        if path is None:
            continue
        for method in sorted(set(methods) - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return found


def _fill(path: str, world: World, key_id: int = 999999) -> str:
    """``path`` with its parameters filled in: the other location's customer and event, the
    API key ``key_id`` (by default one that does not exist)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        if name == "customer_id":
            return str(world.theirs)
        if name == "key_id":
            return str(key_id)
        if "card" in name:
            return "C-POR-B1"
        if name.endswith("id"):
            return str(world.their_event)
        return "x"

    return re.sub(r"\{([^}]+)\}", value, path)


def _call(client: TestClient, method: str, url: str) -> Any:
    if method not in MUTATING:
        return client.request(method, url)
    if url.startswith("/api/"):
        return client.request(method, url, json={})
    token = client.headers.get("X-CSRF-Token", "")
    return client.request(method, url, data={"csrf_token": token})


def _assert_no_leak(client: TestClient, answer: Any, where: str) -> None:
    assert answer.status_code < 500, f"{where}: {answer.status_code} {answer.text[:300]}"
    for secret in SENTINELS:
        assert secret not in answer.text, f"{where} leaked {secret!r}"
    if answer.status_code in (301, 302, 303, 307, 308):
        target = answer.headers.get("location", "")
        if target.startswith("/") and not target.startswith("/login"):
            followed = client.get(target)
            assert followed.status_code < 500, f"{where} → {target}: {followed.status_code}"
            for secret in SENTINELS:
                assert secret not in followed.text, f"{where} → {target} leaked {secret!r}"


@pytest.fixture
def world(api_client: TestClient, runtime: Runtime) -> World:
    return _build_world(api_client, runtime)


def test_the_sentinels_are_visible_to_the_owner_so_the_matrix_can_see_a_leak(
    api_client: TestClient, world: World
) -> None:
    view = api_client.get(f"/api/v1/customers/{world.theirs}").text
    for secret in ("Outofscope", "secret-b@example.com", "SECRET-B-SPOUSE", "SECRET-B-PREF"):
        assert secret in view
    notes = api_client.get(f"/api/v1/customers/{world.theirs}/timeline").text
    assert "SECRET-B-NOTE" in notes


def test_without_credentials_every_private_route_asks_to_sign_in(
    app: FastAPI, world: World
) -> None:
    client = TestClient(app, follow_redirects=False)
    for method, path in _routes(app):
        if PUBLIC.search(path):
            continue
        url = _fill(path, world)
        answer = _call(client, method, url)
        where = f"anonymous {method} {path}"
        _assert_no_leak(client, answer, where)
        if path.startswith("/api/"):
            assert answer.status_code == 401, f"{where}: {answer.status_code}"
        else:
            assert answer.status_code in (303, 401, 403), f"{where}: {answer.status_code}"
            hops = 0
            while answer.status_code == 303 and not answer.headers["location"].startswith("/login"):
                hops += 1
                assert hops < 3, f"{where}: redirects in circles"
                answer = client.get(answer.headers["location"])
            if answer.status_code == 303:
                assert answer.headers["location"].startswith("/login"), where


@pytest.mark.parametrize("role", ["manager", "staff", "rep"])
@pytest.mark.parametrize("via", ["api_key", "console"])
def test_nobody_at_one_location_reaches_a_customer_of_another_through_any_route(
    app: FastAPI,
    world: World,
    client_for: ClientFor,
    console_client_for: ClientFor,
    role: str,
    via: str,
) -> None:
    client = (
        client_for(role, ["CAFE-LIS"])
        if via == "api_key"
        else console_client_for(role, ["CAFE-LIS"])
    )
    # in scope: the customer of their own location is there
    assert client.get(f"/api/v1/customers/{world.mine}").status_code == 200
    for method, path in _routes(app):
        if path in ("/logout",):
            continue  # signing out would end the session the rest of the matrix needs
        url = _fill(path, world)
        answer = _call(client, method, url)
        where = f"{role} via {via}: {method} {path}"
        _assert_no_leak(client, answer, where)
        if "{customer_id}" in path:
            assert not 200 <= answer.status_code < 300, f"{where}: {answer.status_code}"


@pytest.mark.parametrize("role", ["manager", "staff", "rep"])
@pytest.mark.parametrize("via", ["api_key", "console"])
def test_everyone_works_with_the_customers_of_their_own_location(
    world: World,
    client_for: ClientFor,
    console_client_for: ClientFor,
    role: str,
    via: str,
) -> None:
    client = (
        client_for(role, ["CAFE-LIS"])
        if via == "api_key"
        else console_client_for(role, ["CAFE-LIS"])
    )
    mine = world.mine
    assert client.get(f"/api/v1/customers/{mine}").status_code == 200
    assert client.get(f"/api/v1/customers/{mine}/timeline").status_code == 200
    assert client.get("/api/v1/customers", params={"q": "alma"}).json()["items"][0]["id"] == mine
    patched = client.patch(f"/api/v1/customers/{mine}", json={"city": "Lisbon"})
    assert patched.status_code == 200
    note = client.post(
        "/api/v1/events",
        json={
            "type": "note",
            "source": f"{via}-{role}",
            "external_id": "n1",
            "occurred_at": "2026-05-01T08:00:00+01:00",
            "customer_id": mine,
            "text": "likes the window seat",
        },
    )
    assert note.status_code == 201, note.text
    managing = role == "manager"
    assert (client.get(f"/api/v1/customers/{mine}/export").status_code == 200) is managing
    assert (client.get("/api/v1/audit").status_code == 200) is managing
