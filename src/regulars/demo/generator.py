"""Build the demo business: a café chain, a Volkswagen dealership and an optician, with
staff, customers and two years of history, the same for the same seed.

Locations and staff are created through the customer services, one by one, exactly as an
administrator would. Customer profiles are written set-based (a million enrolments one by
one would take hours), with exactly the rows ``services.customers.create_customer`` and its
siblings write; every event — purchases, visits, calls, consents — goes through
``services.ingest.append_events`` in batches of a few thousand, so whatever reacts to
ingested events (points, tiers, facts the planner reads) reacts to the demo as well.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Index, func, insert, select

from regulars.demo import catalogue as cat
from regulars.demo.names import name_pools
from regulars.demo.people import Crew, Plan, World, plan_customer
from regulars.demo.staffing import OWNER_EMAIL, STORY_REP_EMAIL, Person, demo_staff
from regulars.domain.access import CLI
from regulars.domain.customers import birthday_key, celebrated_birthday, derived_columns
from regulars.domain.errors import Conflict
from regulars.services import accounts
from regulars.services import customers as customer_service
from regulars.services.batching import Savepoint
from regulars.services.ingest import append_events, ingest_events
from regulars.services.loyalty import check_program, enrol_many, load_program_file
from regulars.store.ids import allocate_ids
from regulars.store.indexes import indexes_built_after
from regulars.store.tables import (
    assets,
    consents,
    customer_refs,
    customers,
    events,
    household_members,
    households,
    locations,
    preferences,
    staff,
)
from regulars.store.uow import UnitOfWork

#: Customers written per transaction; with their events that is a few thousand rows.
CHUNK = 400


class Progress(Protocol):
    """Where the generator reports how far it got (a Rich progress bar in the CLI)."""

    def begin(self, label: str, total: int) -> None: ...

    def advance(self, amount: int) -> None: ...


class _Silent:
    def begin(self, label: str, total: int) -> None:
        return None

    def advance(self, amount: int) -> None:
        return None


#: Optional extra steps other areas register (e.g. loading the demo loyalty programs),
#: run after the business exists and before customers and events are written.
Setup = Callable[[Engine, datetime], str]


@dataclass
class DemoSummary:
    """What was built, for the closing table and for tests."""

    locations: list[tuple[str, str, str]]
    staff_by_role: dict[str, int]
    customers: int
    events_by_type: dict[str, int]
    birthdays_today: list[str]
    logins: list[tuple[str, str, str]]
    password: str
    seconds: float
    setup_notes: list[str] = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(self.events_by_type.values())


def build_demo(
    engine: Engine,
    *,
    customers_wanted: int = 2000,
    seed: int = 7,
    now: datetime,
    progress: Progress | None = None,
    setups: tuple[Setup, ...] = (),
) -> DemoSummary:
    """Create the whole demo business in an empty database; the same seed, the same data."""
    if now.tzinfo is None:
        raise ValueError("the demo needs an aware `now`")
    started = clock.perf_counter()
    progress = progress or _Silent()
    location_ids, crews, story_rep = _open_business(engine, now)
    programs = _load_programs(engine, now - timedelta(days=800))
    notes = [f"Loyalty programs in force: {', '.join(programs)}"] if programs else []
    notes += [setup(engine, now) for setup in setups]
    _announce_recalls(engine, now)
    world = World(
        seed=seed,
        now=now,
        location_ids=location_ids,
        crews=crews,
        pools=name_pools(seed),
        birthdays_today=min(max(4, customers_wanted // 400), max(customers_wanted - 2, 0)),
        story_rep=story_rep,
    )
    # A fresh database gets its search and timeline indexes once, after the rows.
    bulk: AbstractContextManager[list[Index]] = (
        indexes_built_after(engine) if _empty(engine) else nullcontext([])
    )
    with bulk as deferred:
        _write_customers(engine, world, programs, customers_wanted, now, progress)
        progress.begin(f"building {len(deferred)} indexes", 1)
    progress.advance(1)
    return _summary(engine, now, time_taken=clock.perf_counter() - started, notes=notes)


def _empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.scalar(select(customers.c.id).limit(1)) is None


def _write_customers(
    engine: Engine,
    world: World,
    programs: list[str],
    customers_wanted: int,
    now: datetime,
    progress: Progress,
) -> None:
    """Profiles, opt-ins and two years of history, CHUNK customers per transaction."""
    progress.begin("customers and their history", customers_wanted)
    for start in range(0, customers_wanted, CHUNK):
        count = min(CHUNK, customers_wanted - start)
        with UnitOfWork(engine) as uow:
            ids = allocate_ids(uow.conn, customers, count)
            plans = [plan_customer(start + n, ids[n], world) for n in range(count)]
            _write_profiles(uow.conn, list(zip(ids, plans, strict=True)), now)
            sign_ups: dict[str, list[tuple[int, datetime]]] = {code: [] for code in programs}
            for cid, plan in zip(ids, plans, strict=True):
                for code in plan.opt_in:
                    if code in sign_ups:
                        sign_ups[code].append((cid, plan.customer["created_at"]))
            for code, forms in sign_ups.items():
                if forms:
                    enrol_many(Savepoint(uow), CLI, code, forms, now=now)
            timeline = [e for plan in plans for e in plan.events]
            timeline += [
                _consent_event(cid, c)
                for cid, plan in zip(ids, plans, strict=True)
                for c in plan.consents
            ]
            timeline.sort(key=lambda e: e["occurred_at"])
            report, _ = append_events(uow.conn, timeline, now=now)
            if report.rejected:
                bad = next(r for r in report.results if r.status == "rejected")
                raise RuntimeError(f"the demo generated an invalid event: {bad.as_dict()}")
            uow.commit()
        progress.advance(count)


def _open_business(engine: Engine, now: datetime) -> tuple[dict[str, int], dict[str, Crew], int]:
    """Locations and staff, through the same services an administrator uses."""
    with engine.connect() as conn:
        if conn.scalar(select(locations.c.id).where(locations.c.code == cat.PLACES[0].code)):
            raise Conflict(
                "this database already holds the demo business; rebuild it with --fresh",
                field="database",
            )
    opened = now - timedelta(days=800)
    ids: dict[str, int] = {}
    for place in cat.PLACES:
        ids[place.code] = customer_service.create_location(
            UnitOfWork(engine),
            CLI,
            {
                "code": place.code,
                "name": place.name,
                "brand": place.brand,
                "kind": place.kind,
                "timezone": place.timezone,
                "currency": place.currency,
                "city": place.city,
            },
            now=opened,
        )
    digest = accounts.hash_password(cat.DEMO_PASSWORD)
    people: dict[int, Person] = {}
    for person in demo_staff():
        staff_id = customer_service.create_staff(
            UnitOfWork(engine),
            CLI,
            {
                "email": person.email,
                "name": person.name,
                "role": person.role,
                "locations": list(person.locations),
                "daily_call_capacity": person.daily_call_capacity,
                "working_days": list(person.working_days),
            },
            now=opened,
            password_hash=digest,
        )
        people[staff_id] = person
    crews: dict[str, Crew] = {}
    for place in cat.PLACES:
        here = [(sid, p) for sid, p in people.items() if p.locations == (place.code,)]
        crews[place.code] = Crew(
            manager=next(sid for sid, p in here if p.role == "manager"),
            reps=tuple(sid for sid, p in here if p.role == "rep"),
            counter=tuple(sid for sid, p in here if p.role == "staff"),
        )
    story_rep = next(sid for sid, p in people.items() if p.email == STORY_REP_EMAIL)
    return ids, crews, story_rep


def _load_programs(engine: Engine, at: datetime) -> list[str]:
    """Put the demo loyalty programs (``demo/programs/*.yaml``) in force, as a manager would."""
    folder = resources.files("regulars.demo").joinpath("programs")
    if not folder.is_dir():
        return []
    codes = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            text = entry.read_text(encoding="utf-8")
            load_program_file(UnitOfWork(engine), CLI, text, now=at)
            codes.append(check_program(text).code)
    return codes


def _announce_recalls(engine: Engine, now: datetime) -> None:
    """The manufacturer's open recalls: business-wide events every owner of the model shares."""
    items = [
        {
            "type": "recall",
            "source": "vw-recalls",
            "external_id": f"recall-{code}",
            "occurred_at": now - timedelta(days=30 + 45 * n),
            "location": "VW-NAPLES",
            "asset_model": code,
            "title": title,
            "severity": severity,
            "status": "open",
        }
        for n, (code, title, severity) in enumerate(cat.RECALLS)
    ]
    ingest_events(UnitOfWork(engine), items, now=now)


def _consent_event(customer_id: int, consent: dict[str, Any]) -> dict[str, Any]:
    """The timeline entry ``create_customer`` writes beside each consent row."""
    at: datetime = consent["at"]
    return {
        "type": "consent",
        "source": "regulars",
        "external_id": f"consent:{customer_id}:{consent['channel']}:{at.isoformat()}",
        "occurred_at": at,
        "customer_id": customer_id,
        "channel": consent["channel"],
        "granted": consent["granted"],
        "how": consent["source"],
    }


def _write_profiles(conn: Connection, batch: list[tuple[int, Plan]], now: datetime) -> None:
    """Profiles, households, assets, preferences, refs and consents, one INSERT per table."""
    with_household = [(cid, plan) for cid, plan in batch if plan.household_name is not None]
    household_ids = allocate_ids(conn, households, len(with_household))
    household_of = {cid: hid for (cid, _), hid in zip(with_household, household_ids, strict=True)}
    member_count = sum(len(plan.members) for _, plan in with_household)
    member_ids = iter(allocate_ids(conn, household_members, member_count))

    customer_rows, member_rows, asset_rows, pref_rows, ref_rows, consent_rows = (
        [],
        [],
        [],
        [],
        [],
        [],
    )
    for cid, plan in batch:
        customer_rows.append(
            plan.customer
            | derived_columns(plan.customer)
            | {"id": cid, "household_id": household_of.get(cid)}
        )
        mine: list[int] = []
        for member in plan.members:
            member_id = next(member_ids)
            mine.append(member_id)
            member_rows.append(
                {
                    "id": member_id,
                    "household_id": household_of[cid],
                    "customer_id": None,
                    "name": member["name"],
                    "relation": member["relation"],
                    "birthday": member["birthday"],
                    "birthday_key": birthday_key(member["birthday"])
                    if member["birthday"]
                    else None,
                }
            )
        for asset in plan.assets:
            index = asset["member"]
            asset_rows.append(
                {key: value for key, value in asset.items() if key != "member"}
                | {"customer_id": cid, "member_id": mine[index] if index is not None else None}
            )
        pref_rows += [
            {"customer_id": cid, "label": label, "value": value, "updated_at": now}
            for label, value in plan.preferences
        ]
        ref_rows += [
            {"customer_id": cid, "source": source, "external_id": ref} for source, ref in plan.refs
        ]
        consent_rows += [
            {
                "customer_id": cid,
                "channel": c["channel"],
                "granted": c["granted"],
                "at": c["at"],
                "source": c["source"],
            }
            for c in plan.consents
        ]
    if household_ids:
        conn.execute(
            insert(households),
            [
                {"id": hid, "name": plan.household_name or ""}
                for (_, plan), hid in zip(with_household, household_ids, strict=True)
            ],
        )
    for table, rows in (
        (customers, customer_rows),
        (household_members, member_rows),
        (assets, asset_rows),
        (preferences, pref_rows),
        (customer_refs, ref_rows),
        (consents, consent_rows),
    ):
        if rows:
            conn.execute(insert(table), rows)


def _summary(engine: Engine, now: datetime, *, time_taken: float, notes: list[str]) -> DemoSummary:
    with engine.connect() as conn:
        places = [
            (str(code), str(name), str(zone))
            for code, name, zone in conn.execute(
                select(locations.c.code, locations.c.name, locations.c.timezone).order_by(
                    locations.c.id
                )
            )
        ]
        roles = {
            str(role): int(n)
            for role, n in conn.execute(select(staff.c.role, func.count()).group_by(staff.c.role))
        }
        total = int(conn.scalar(select(func.count()).select_from(customers)) or 0)
        by_type = {
            str(kind): int(n)
            for kind, n in conn.execute(
                select(events.c.type, func.count())
                .group_by(events.c.type)
                .order_by(func.count().desc())
            )
        }
        birthdays = _birthdays_today(conn, now)
        logins = [
            (str(email), str(role), str(name))
            for email, role, name in conn.execute(
                select(staff.c.email, staff.c.role, staff.c.name)
                .where(
                    staff.c.email.in_(
                        [OWNER_EMAIL, STORY_REP_EMAIL, "rita.fonseca@regulars.example"]
                    )
                )
                .order_by(staff.c.id)
            )
        ]
    return DemoSummary(
        locations=places,
        staff_by_role=roles,
        customers=total,
        events_by_type=by_type,
        birthdays_today=birthdays,
        logins=logins,
        password=cat.DEMO_PASSWORD,
        seconds=time_taken,
        setup_notes=notes,
    )


def _birthdays_today(conn: Connection, now: datetime) -> list[str]:
    """Customers whose birthday is today where they live (a few, on purpose).

    A 29 February birthday counts on 28 February in a common year (the default leap rule).
    """
    rows = conn.execute(
        select(
            customers.c.first_name,
            customers.c.last_name,
            locations.c.code,
            locations.c.timezone,
            customers.c.birthday,
        )
        .join(locations, locations.c.id == customers.c.home_location_id)
        .where(customers.c.birthday_key.in_(sorted(_keys_today(now))))
        .order_by(customers.c.id)
    )
    out = []
    for first, last, code, zone, birthday in rows:
        today = _local_date(now, zone)
        if celebrated_birthday(birthday, today.year) == today:
            out.append(f"{first} {last} ({code})")
    return out


def _keys_today(now: datetime) -> set[int]:
    keys = set()
    for place in cat.PLACES:
        today = _local_date(now, place.timezone)
        keys.add(birthday_key(today))
        if (today.month, today.day) == (2, 28):
            keys.add(229)
    return keys


def _local_date(now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


__all__ = ["CHUNK", "DemoSummary", "Progress", "Setup", "build_demo"]
