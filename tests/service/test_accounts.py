"""Accounts: argon2 passwords, sessions, throttling by account and address, key reach."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update

from regulars.domain.access import CLI, Actor
from regulars.domain.customers import Role
from regulars.domain.errors import Forbidden, InvalidInput, NotFound
from regulars.services import accounts
from regulars.store.access_tables import login_attempts
from regulars.store.tables import staff
from regulars.store.uow import UnitOfWork
from tests import factories

PASSWORD = "a long enough secret"


def _person(
    engine: Engine, now: datetime, email: str, role: str = "staff", loc: str = "CAFE-LIS"
) -> int:
    return accounts.add_staff(
        UnitOfWork(engine),
        CLI,
        {"email": email, "name": email.split("@")[0], "role": role, "locations": [loc]},
        password=PASSWORD,
        now=now,
    )


def test_passwords_are_stored_as_argon2_hashes_never_as_typed(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    _person(engine, now, "ana@example.com")
    with engine.connect() as conn:
        stored = conn.scalar(select(staff.c.password_hash))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_a_short_password_is_refused(engine: Engine, now: datetime) -> None:
    factories.location(engine, now)
    with pytest.raises(InvalidInput) as caught:
        accounts.add_staff(
            UnitOfWork(engine),
            CLI,
            {"email": "a@example.com", "name": "A", "role": "staff", "locations": ["CAFE-LIS"]},
            password="short",
            now=now,
        )
    assert caught.value.problems[0].field == "password"


def test_many_wrong_passwords_from_one_address_lock_that_address_for_every_account(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    _person(engine, now, "ana@example.com")
    for n in range(accounts.MAX_FAILURES_PER_IP):
        with pytest.raises(accounts.BadCredentials):
            accounts.log_in(
                UnitOfWork(engine), f"guess{n}@example.com", "nope", ip="10.0.0.9", now=now
            )
    with pytest.raises(accounts.TooManyAttempts, match="this address"):
        accounts.log_in(UnitOfWork(engine), "ana@example.com", PASSWORD, ip="10.0.0.9", now=now)
    # another address is not affected, and the lock lifts after the window
    assert accounts.log_in(UnitOfWork(engine), "ana@example.com", PASSWORD, ip="10.0.0.8", now=now)
    later = now + accounts.THROTTLE_WINDOW + timedelta(seconds=1)
    assert accounts.log_in(
        UnitOfWork(engine), "ana@example.com", PASSWORD, ip="10.0.0.9", now=later
    )


def test_ten_wrong_passwords_at_once_are_checked_five_times_then_refused(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    _person(engine, now, "ana@example.com")
    for email in ("ana@example.com", "nobody@example.com"):  # the same for unknown e-mails
        start = threading.Barrier(10)

        def guess(n: int, email: str = email, start: threading.Barrier = start) -> str:
            start.wait()
            try:
                accounts.log_in(UnitOfWork(engine), email, f"guess {n}", ip=f"10.0.1.{n}", now=now)
            except accounts.TooManyAttempts:
                return "refused"
            except accounts.BadCredentials:
                return "wrong password"
            return "signed in"

        with ThreadPoolExecutor(max_workers=10) as pool:
            answers = sorted(pool.map(guess, range(10)))

        assert answers == ["refused"] * 5 + ["wrong password"] * 5, email


def test_sign_in_attempts_are_kept_for_a_month_then_cleared(engine: Engine, now: datetime) -> None:
    factories.location(engine, now)
    _person(engine, now, "ana@example.com")
    with pytest.raises(accounts.BadCredentials):
        accounts.log_in(UnitOfWork(engine), "ana@example.com", "nope", ip="10.0.0.9", now=now)

    later = now + accounts.KEEP_ATTEMPTS + timedelta(days=1)
    accounts.log_in(UnitOfWork(engine), "ana@example.com", PASSWORD, ip="10.0.0.8", now=later)

    with engine.connect() as conn:
        kept = conn.execute(select(login_attempts.c.ip, login_attempts.c.succeeded)).all()
    assert [tuple(row) for row in kept] == [("10.0.0.8", True)]


def test_a_deactivated_member_of_staff_cannot_sign_in_and_loses_their_sessions(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    sid = _person(engine, now, "ana@example.com")
    new = accounts.log_in(UnitOfWork(engine), "ana@example.com", PASSWORD, ip="x", now=now)
    with engine.begin() as conn:
        conn.execute(update(staff).where(staff.c.id == sid).values(active=False))
    assert accounts.session_for_token(UnitOfWork(engine), new.token, now=now) is None
    with pytest.raises(accounts.BadCredentials):
        accounts.log_in(UnitOfWork(engine), "ana@example.com", PASSWORD, ip="x", now=now)


def test_a_new_password_signs_the_person_out_everywhere(engine: Engine, now: datetime) -> None:
    factories.location(engine, now)
    _person(engine, now, "ana@example.com")
    new = accounts.log_in(UnitOfWork(engine), "ana@example.com", PASSWORD, ip="x", now=now)
    accounts.set_password(
        UnitOfWork(engine), CLI, "ana@example.com", "another long secret", now=now
    )
    assert accounts.session_for_token(UnitOfWork(engine), new.token, now=now) is None
    assert accounts.log_in(
        UnitOfWork(engine), "ana@example.com", "another long secret", ip="x", now=now
    )


def test_a_manager_looks_after_their_own_people_only(engine: Engine, now: datetime) -> None:
    lis = factories.location(engine, now, "CAFE-LIS")
    factories.location(engine, now, "CAFE-POR")
    _person(engine, now, "owner@example.com", role="owner")
    _person(engine, now, "far@example.com", loc="CAFE-POR")
    _person(engine, now, "near@example.com")
    manager = Actor(kind="staff", id=999, role=Role.manager, locations=frozenset({lis}))

    accounts.set_password(
        UnitOfWork(engine), manager, "near@example.com", "fresh long secret", now=now
    )
    with pytest.raises(Forbidden):
        accounts.set_password(UnitOfWork(engine), manager, "owner@example.com", "x" * 12, now=now)
    with pytest.raises(NotFound):
        accounts.set_password(UnitOfWork(engine), manager, "far@example.com", "x" * 12, now=now)
    with pytest.raises(Forbidden):
        accounts.add_staff(
            UnitOfWork(engine),
            manager,
            {"email": "x@example.com", "name": "X", "role": "staff", "locations": ["CAFE-POR"]},
            password=PASSWORD,
            now=now,
        )
    names = {s.email for s in accounts.list_staff(UnitOfWork(engine), manager)}
    assert "far@example.com" not in names
    assert "near@example.com" in names


def test_a_key_acts_with_its_role_locations_and_permissions(engine: Engine, now: datetime) -> None:
    lis = factories.location(engine, now)
    new = accounts.create_api_key(
        UnitOfWork(engine),
        CLI,
        {"name": "till", "locations": ["CAFE-LIS"], "permissions": ["events:write"]},
        now=now,
    )
    actor = accounts.actor_for_api_key(UnitOfWork(engine), new.secret, now=now)
    assert actor is not None
    assert (actor.kind, actor.role, actor.locations, actor.permissions) == (
        "api_key",
        Role.staff,
        frozenset({lis}),
        frozenset({"events:write"}),
    )
    tampered = new.secret[:-2] + ("AA" if not new.secret.endswith("AA") else "BB")
    assert accounts.actor_for_api_key(UnitOfWork(engine), tampered, now=now) is None
    assert accounts.actor_for_api_key(UnitOfWork(engine), "not-a-key", now=now) is None


def test_a_key_limited_to_some_permissions_issues_keys_limited_to_some_of_those_only(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    reader = accounts.create_api_key(
        UnitOfWork(engine),
        CLI,
        {
            "name": "planner screen",
            "role": "manager",
            "locations": ["CAFE-LIS"],
            "permissions": ["planner:read"],
        },
        now=now,
    )
    actor = accounts.actor_for_api_key(UnitOfWork(engine), reader.secret, now=now)
    assert actor is not None
    for asked in (None, ["planner:read", "customers:write"], ["privacy:erase"]):
        with pytest.raises(Forbidden) as caught:
            accounts.create_api_key(
                UnitOfWork(engine),
                actor,
                {"name": "wider", "locations": ["CAFE-LIS"], "permissions": asked},
                now=now,
            )
        assert caught.value.field == "permissions"
    assert [k.name for k in accounts.list_api_keys(UnitOfWork(engine), CLI)] == ["planner screen"]
    same = accounts.create_api_key(
        UnitOfWork(engine),
        actor,
        {"name": "second screen", "locations": ["CAFE-LIS"], "permissions": ["planner:read"]},
        now=now,
    )
    assert same.summary.permissions == ("planner:read",)
