"""The demo business: believable, the same for the same seed, and showing the point at once."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select
from typer.testing import CliRunner

from regulars.cli import app
from regulars.config import get_settings
from regulars.demo.generator import build_demo
from regulars.domain.customers import CustomerIn
from regulars.services import accounts
from regulars.store.db import make_engine
from regulars.store.schema import metadata
from regulars.store.tables import (
    assets,
    consents,
    customers,
    events,
    household_members,
    preferences,
    staff,
)
from regulars.store.uow import UnitOfWork

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LEAP_NOW = datetime(2028, 2, 29, 15, 0, tzinfo=UTC)


def _fresh(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    return engine


def _fingerprint(engine: Engine) -> str:
    """A digest of what a user would see: every profile and every event with its payload."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for row in conn.execute(select(customers).order_by(customers.c.id)):
            digest.update(repr(tuple(row)).encode())
        for row in conn.execute(
            select(
                events.c.id,
                events.c.type,
                events.c.occurred_at,
                events.c.customer_id,
                events.c.external_id,
                events.c.payload,
            ).order_by(events.c.id)
        ):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def test_the_same_seed_builds_the_same_business_and_another_seed_a_different_one(
    tmp_path: Path,
) -> None:
    first, second, other = (_fresh(tmp_path / f"{n}.db") for n in ("a", "b", "c"))

    build_demo(first, customers_wanted=150, seed=11, now=NOW)
    build_demo(second, customers_wanted=150, seed=11, now=NOW)
    build_demo(other, customers_wanted=150, seed=12, now=NOW)

    assert _fingerprint(first) == _fingerprint(second)
    assert _fingerprint(first) != _fingerprint(other)


def test_the_demo_builds_on_both_databases_with_every_event_through_ingest(
    engine: Engine,
) -> None:
    summary = build_demo(engine, customers_wanted=120, seed=3, now=NOW)

    assert summary.customers == 120
    assert {
        "purchase",
        "visit",
        "call",
        "survey_answer",
        "ticket",
        "note",
        "consent",
        "recall",
    } <= set(summary.events_by_type)
    with engine.connect() as conn:
        recorded = set(
            conn.scalars(select(events.c.recorded_at).where(events.c.type != "tier").distinct())
        )
        spend = conn.scalar(select(func.sum(customers.c.lifetime_spend)))
        purchases = conn.scalar(select(func.sum(customers.c.purchase_count)))
    assert recorded == {NOW}  # written by ingest, which stamps the moment it recorded them
    assert spend and spend > 0
    assert purchases == summary.events_by_type["purchase"]


def test_the_seed_story_customer_is_there_with_his_wife_her_recalled_car_and_last_years_call(
    sqlite_engine: Engine,
) -> None:
    summary = build_demo(sqlite_engine, customers_wanted=60, seed=7, now=NOW)

    assert summary.birthdays_today[0] == "Mark Hollister (VW-NAPLES)"
    with sqlite_engine.connect() as conn:
        mark = conn.execute(select(customers).where(customers.c.last_name == "Hollister")).one()
        rep = conn.execute(select(staff).where(staff.c.id == mark.owner_staff_id)).one()
        wife = conn.execute(
            select(household_members).where(household_members.c.household_id == mark.household_id)
        ).one()
        beetle = conn.execute(select(assets).where(assets.c.member_id == wife.id)).one()
        recalls = conn.scalars(select(events.c.payload).where(events.c.type == "recall")).all()
        calls = conn.scalars(
            select(events.c.payload).where(events.c.customer_id == mark.id, events.c.type == "call")
        ).all()
        season = conn.scalar(
            select(preferences.c.value).where(
                preferences.c.customer_id == mark.id, preferences.c.label == "season in Florida"
            )
        )
    assert (mark.birthday.month, mark.birthday.day) == (11, 26)
    assert (mark.city, rep.name, rep.role) == ("Chicago", "Dave Morales", "rep")
    assert mark.lifetime_spend > 3_000_000
    assert wife.name == "Linda Hollister"
    assert beetle.details["model"] == "Beetle Convertible"
    assert any(r["asset_model"] == beetle.model_code and r["status"] == "open" for r in recalls)
    assert any("Beetle" in c["notes"] and "back in Naples" in c["notes"] for c in calls)
    assert season is not None and "Naples" in season


def test_a_few_customers_have_their_birthday_today_and_one_was_born_on_29_february(
    sqlite_engine: Engine,
) -> None:
    summary = build_demo(sqlite_engine, customers_wanted=400, seed=5, now=NOW)

    assert 4 <= len(summary.birthdays_today) <= 20
    with sqlite_engine.connect() as conn:
        leap = conn.scalar(select(func.count()).where(customers.c.birthday_key == 229))
    assert leap and leap >= 1


def test_on_29_february_the_leap_day_birthdays_are_today(sqlite_engine: Engine) -> None:
    summary = build_demo(sqlite_engine, customers_wanted=80, seed=5, now=LEAP_NOW)

    with sqlite_engine.connect() as conn:
        mark = conn.execute(
            select(customers.c.birthday).where(customers.c.last_name == "Hollister")
        ).scalar_one()
    assert (mark.month, mark.day) == (2, 29)
    assert len(summary.birthdays_today) >= 4


def test_every_demo_profile_is_one_the_customer_service_would_accept(
    sqlite_engine: Engine,
) -> None:
    build_demo(sqlite_engine, customers_wanted=300, seed=9, now=NOW)

    with sqlite_engine.connect() as conn:
        rows = conn.execute(select(customers)).mappings().all()
        granted = conn.execute(select(consents)).mappings().all()
        consent_events = conn.scalar(select(func.count()).where(events.c.type == "consent"))
    for row in rows:
        CustomerIn.model_validate(
            {
                key: row[key]
                for key in (
                    "card_number",
                    "first_name",
                    "last_name",
                    "email",
                    "phone",
                    "birthday",
                    "language",
                    "preferred_channel",
                    "city",
                    "status",
                    "owner_staff_id",
                )
            }
            | (
                {"quiet_hours": {"start": row["quiet_start"], "end": row["quiet_end"]}}
                if row["quiet_start"]
                else {}
            )
        )
        assert row["birthday_key"] == (
            row["birthday"].month * 100 + row["birthday"].day if row["birthday"] else None
        )
    assert consent_events == len(granted)


def test_the_demo_staff_sign_in_with_the_printed_password(sqlite_engine: Engine) -> None:
    summary = build_demo(sqlite_engine, customers_wanted=20, seed=1, now=NOW)

    session = accounts.log_in(
        UnitOfWork(sqlite_engine), summary.logins[0][0], summary.password, ip="127.0.0.1", now=NOW
    )

    assert session is not None


# -- the command --------------------------------------------------------------------------


@pytest.fixture
def demo_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "demo.db"
    monkeypatch.setenv("REGULARS_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_regulars_demo_prints_the_summary_and_the_demo_login(demo_db: Path) -> None:
    code, out = _run("demo", "--customers", "150", "--now", "2026-11-26T09:00:00+00:00")

    assert code == 0, out
    assert "customers" in out and "150" in out
    assert "Birthdays today:" in out and "Mark Hollister" in out
    assert "owner@regulars.example" in out and "regulars-demo" in out
    assert demo_db.exists()


def test_keep_refuses_to_add_a_second_demo_and_fresh_starts_over(demo_db: Path) -> None:
    assert _run("demo", "--customers", "30", "--now", "2026-11-26T09:00:00+00:00")[0] == 0

    code, out = _run("demo", "--keep", "--customers", "30")
    assert code == 2
    assert "already holds the demo business" in out

    code, out = _run("demo", "--customers", "40", "--now", "2026-11-26T09:00:00+00:00")
    assert code == 0, out
    engine = make_engine(f"sqlite:///{demo_db}")
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(customers)) == 40
    engine.dispose()


@pytest.mark.postgres
def test_fresh_refuses_to_empty_a_postgresql_database_without_yes(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGULARS_DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    try:
        code, out = _run("demo", "--customers", "10")
    finally:
        get_settings.cache_clear()

    assert code == 2
    assert "refusing to empty the PostgreSQL database" in out
    assert "--yes" in out


@pytest.mark.postgres
def test_fresh_with_yes_rebuilds_a_postgresql_database(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"regulars_demo_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("REGULARS_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        first = _run("demo", "--customers", "25", "--now", "2026-11-26T09:00:00+00:00", "--yes")
        again = _run("demo", "--customers", "35", "--now", "2026-11-26T09:00:00+00:00", "--yes")
        engine = make_engine(url)
        with engine.connect() as conn:
            count = conn.scalar(select(func.count()).select_from(customers))
        engine.dispose()
    finally:
        get_settings.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    assert first[0] == 0, first[1]
    assert again[0] == 0, again[1]
    assert count == 35


def test_a_fresh_demo_ends_with_every_index_the_schema_declares(engine: Engine) -> None:
    """Its search and timeline indexes are built once after the rows, and all come back."""
    declared = {str(index.name) for table in metadata.sorted_tables for index in table.indexes}

    build_demo(engine, customers_wanted=60, seed=2, now=NOW)

    present = {
        index["name"]
        for table in metadata.sorted_tables
        for index in inspect(engine).get_indexes(table.name)
    }
    assert declared <= present
