"""Web test fixtures: the real app on the test database, and clients signed in as someone.

Registered in ``tests/conftest.py`` (``pytest_plugins``), so any test may ask for:

- ``app``: ``create_app`` on the ``runtime`` fixture (SQLite, then PostgreSQL);
- ``api_client``: a TestClient carrying an owner API key for the whole business;
- ``client_for(role, locations, permissions=None)``: a TestClient with an API key of that
  role, limited to those location codes (which must exist);
- ``console_client``: a TestClient signed in through the real login form as an owner;
- ``console_client_for(role, locations)``: the same for a new member of staff.

Console clients send their session's CSRF token as ``X-CSRF-Token`` on every request; a
form test reads it from ``client.headers["X-CSRF-Token"]`` for the ``csrf_token`` field.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

import pytest
from fastapi import FastAPI
from sqlalchemy import select

with warnings.catch_warnings():
    # Starlette now prefers httpx2 for its TestClient; httpx (what we ship) still works, and
    # the warning is about Starlette's future, not ours. Imported once here for every test.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from regulars.bootstrap import Runtime
from regulars.domain.access import CLI
from regulars.services import accounts
from regulars.services.customers import create_location
from regulars.store.tables import locations
from regulars.web.app import create_app
from regulars.web.deps import CSRF_HEADER, SESSION_COOKIE

PASSWORD = "correct horse battery"
CONSOLE_LOCATION = "HQ"

_serial = itertools.count(1)

ClientFor = Callable[..., TestClient]


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime)


def _client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def api_key_client(
    app: FastAPI,
    runtime: Runtime,
    role: str = "owner",
    locations: Sequence[str] | None = None,
    permissions: Sequence[str] | None = None,
) -> TestClient:
    """A client with a fresh API key issued through the real service."""
    data: dict[str, object] = {"name": f"test key {next(_serial)}", "role": role}
    if locations is not None:
        data["locations"] = list(locations)
    if permissions is not None:
        data["permissions"] = list(permissions)
    key = accounts.create_api_key(runtime.uow(), CLI, data, now=runtime.now())
    client = _client(app)
    client.headers["Authorization"] = f"Bearer {key.secret}"
    return client


@pytest.fixture
def api_client(app: FastAPI, runtime: Runtime) -> Iterator[TestClient]:
    """An integration with an owner's key: sees and changes the whole business."""
    with api_key_client(app, runtime) as client:
        yield client


@pytest.fixture
def client_for(app: FastAPI, runtime: Runtime) -> Iterator[ClientFor]:
    """Make API clients for a role and location codes: ``client_for("staff", ["CAFE-LIS"])``."""
    made: list[TestClient] = []

    def make(
        role: str = "staff",
        locations: Sequence[str] | None = None,
        permissions: Sequence[str] | None = None,
    ) -> TestClient:
        client = api_key_client(app, runtime, role, locations, permissions)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def log_in(app: FastAPI, email: str, password: str = PASSWORD) -> TestClient:
    """Sign in through the real login form (fetch it for the CSRF cookie, then post it)."""
    client = _client(app)
    form = client.get("/login")
    assert form.status_code == 200, form.text
    token = client.cookies.get("regulars_login_csrf")
    assert token, "the login form sets its CSRF cookie"
    answer = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/console/"},
    )
    assert answer.status_code == 303, answer.text
    session_token = client.cookies.get(SESSION_COOKIE)
    assert session_token
    runtime: Runtime = app.state.runtime
    session = accounts.session_for_token(runtime.uow(), session_token, now=runtime.now())
    assert session is not None
    client.headers[CSRF_HEADER] = session.csrf_token
    return client


def ensure_location(runtime: Runtime, code: str) -> None:
    with runtime.uow(readonly=True) as uow:
        exists = uow.conn.scalar(select(locations.c.id).where(locations.c.code == code))
    if exists is None:
        create_location(
            runtime.uow(),
            CLI,
            {"code": code, "name": f"Location {code}", "timezone": "Europe/Lisbon"},
            now=runtime.now(),
        )


def staff_with_password(
    runtime: Runtime, role: str, locations: Sequence[str], email: str | None = None
) -> str:
    """Add a member of staff who can sign in; returns their e-mail."""
    email = email or f"{role}{next(_serial)}@example.com"
    accounts.add_staff(
        runtime.uow(),
        CLI,
        {"email": email, "name": f"Test {role}", "role": role, "locations": list(locations)},
        password=PASSWORD,
        now=runtime.now(),
    )
    return email


@pytest.fixture
def console_client_for(app: FastAPI, runtime: Runtime) -> Iterator[ClientFor]:
    """Make signed-in console clients: ``console_client_for("staff", ["CAFE-LIS"])``."""
    made: list[TestClient] = []

    def make(role: str = "staff", locations: Sequence[str] = (CONSOLE_LOCATION,)) -> TestClient:
        for code in locations:
            ensure_location(runtime, code)
        client = log_in(app, staff_with_password(runtime, role, locations))
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def console_client(console_client_for: ClientFor) -> TestClient:
    """The owner, signed in through the login form (their location is ``HQ``)."""
    return console_client_for("owner", [CONSOLE_LOCATION])


@pytest.fixture
def web_now(runtime: Runtime) -> datetime:
    """The moment the app believes it is (the runtime's fixed clock)."""
    return runtime.now()
