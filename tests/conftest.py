"""Shared fixtures: a real database (SQLite, and PostgreSQL when one is reachable) and a clock.

Every storage and service test takes ``engine`` (or ``db``) and so runs twice: on a fresh
SQLite file and on a PostgreSQL database made for this test run. PostgreSQL is found at
``REGULARS_TEST_POSTGRES_URL`` or at 127.0.0.1:5432 (trust auth, database ``test``); when
none is reachable those runs skip with the reason, except under CI, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from regulars.bootstrap import FixedClock, Runtime
from regulars.config import Settings
from regulars.store.db import make_engine
from regulars.store.schema import metadata

pytest_plugins = ["tests.web_fixtures"]  # app, api_client, client_for, console_client

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 5, 1, 7, 0, tzinfo=UTC)


def _postgres_server() -> tuple[str | None, str]:
    """A URL of a PostgreSQL server we may create a database on, or None and why not."""
    url = os.environ.get("REGULARS_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    try:
        probe = create_engine(url, connect_args={"connect_timeout": 3})
        with probe.connect() as conn:
            conn.execute(text("select 1"))
        probe.dispose()
    except Exception as error:  # any failure means "not reachable"; the reason is reported
        return None, f"PostgreSQL not reachable at {make_url(url).render_as_string()}: {error}"
    return url, ""


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test run's own, dropped at the end."""
    server, why = _postgres_server()
    if server is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {why}")
        pytest.skip(why)
    name = f"regulars_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    schema_engine = make_engine(url)
    metadata.create_all(schema_engine)
    schema_engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database with the full schema: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'regulars.db'}")
        metadata.create_all(eng)
        yield eng
        eng.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    eng = make_engine(url)
    _truncate_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite only, for tests about SQLite itself or too slow to run twice."""
    eng = make_engine(f"sqlite:///{tmp_path / 'regulars.db'}")
    metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def other_db(tmp_path: Path) -> Iterator[Engine]:
    """A second, empty business database (SQLite) to import an export into."""
    eng = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def now() -> datetime:
    """The moment tests happen at, unless they say otherwise: 1 May 2026, 07:00 UTC."""
    return NOW


@pytest.fixture
def runtime(engine: Engine, now: datetime) -> Runtime:
    """The runtime a command would get, on the test database and a fixed clock."""
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    return Runtime(settings=settings, engine=engine, clock=FixedClock(now))
