"""Privacy: a customer's data exported whole, and erased without moving any totals."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from regulars.bootstrap import Runtime
from regulars.domain.access import CLI, Actor
from regulars.domain.customers import Role
from regulars.domain.errors import Conflict, Forbidden, InvalidInput
from regulars.services import customers as customer_service
from regulars.services import idempotency
from regulars.services.goodwill import grant_goodwill
from regulars.services.ingest import ingest_events
from regulars.services.privacy import ERASED, erase_customer, export_customer
from regulars.store.planner_tables import plan_decisions
from regulars.store.schema import metadata
from regulars.store.tables import customers, events
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import balance, ledger_sums_match, load, program_text

SECRETS = ("Angela", "Moreira", "angela@example.com", "+351912345678", "WVWZZZ1234", "Florida")


def _rich_customer(engine: Engine, now: datetime) -> int:
    factories.location(engine, now)
    cid = factories.customer(
        engine,
        now,
        first_name="Angela",
        last_name="Moreira",
        email="angela@example.com",
        phone="+351912345678",
        birthday="1972-02-29",
        card_number="C-ANGELA",
        home_location="CAFE-LIS",
        external_refs={"shop": "A-77"},
        consents=[{"channel": "email", "granted": True, "at": "2026-01-01T10:00:00+00:00"}],
    )
    uow = UnitOfWork(engine)
    customer_service.add_household_member(
        uow, CLI, cid, {"name": "Angela's husband Rui Moreira"}, now=now
    )
    customer_service.add_asset(
        uow,
        CLI,
        cid,
        {"kind": "car", "label": "Angela's ID.4", "details": {"vin": "WVWZZZ1234"}},
        now=now,
    )
    customer_service.set_preference(
        uow, CLI, cid, {"label": "usual order", "value": "Angela's London Fog"}, now=now
    )
    ingest_events(
        UnitOfWork(engine),
        [
            factories.purchase("p1", customer_id=cid),
            {
                "type": "note",
                "source": "console",
                "external_id": "n1",
                "occurred_at": "2026-04-30T10:00:00+00:00",
                "customer_id": cid,
                "text": "Back from Florida, ask Angela about the trip",
                "tags": ["travel", "Florida"],
            },
            {
                "type": "call",
                "source": "console",
                "external_id": "c1",
                "occurred_at": "2026-04-30T11:00:00+00:00",
                "customer_id": cid,
                "emotion": "happy",
                "notes": "Angela loved Florida",
            },
        ],
        now=now,
    )
    return cid


def _whole_database(engine: Engine) -> str:
    with engine.connect() as conn:
        dump: dict[str, Any] = {
            table.name: [dict(r) for r in conn.execute(select(table)).mappings()]
            for table in metadata.sorted_tables
        }
    return json.dumps(dump, default=str)


def test_an_export_holds_profile_household_assets_preferences_consents_and_timeline(
    engine: Engine, now: datetime
) -> None:
    cid = _rich_customer(engine, now)

    document = export_customer(UnitOfWork(engine), CLI, cid, now=now)

    assert document["profile"]["first_name"] == "Angela"
    assert document["household_members"][0]["name"] == "Angela's husband Rui Moreira"
    assert document["assets"][0]["details"] == {"vin": "WVWZZZ1234"}
    assert document["preferences"][0]["value"] == "Angela's London Fog"
    assert document["consents"][0]["channel"] == "email"
    assert document["external_refs"][0]["external_id"] == "A-77"
    assert {e["type"] for e in document["timeline"]} >= {"purchase", "note", "call"}
    assert any(a["action"] == "customer.create" for a in document["audit"])
    json.dumps(document)  # plain JSON, nothing exotic


def test_erasing_removes_every_trace_of_the_person_but_keeps_the_totals(
    engine: Engine, now: datetime
) -> None:
    cid = _rich_customer(engine, now)
    with engine.connect() as conn:
        before = conn.execute(
            select(customers.c.lifetime_spend, customers.c.purchase_count).where(
                customers.c.id == cid
            )
        ).one()
        event_count = len(conn.execute(select(events.c.id)).all())

    erase_customer(UnitOfWork(engine), CLI, cid, now=now, confirm=True)

    dump = _whole_database(engine)
    for secret in SECRETS:
        assert secret not in dump, f"{secret!r} survived erasure"
    with engine.connect() as conn:
        row = conn.execute(select(customers).where(customers.c.id == cid)).mappings().one()
        assert row["status"] == "erased"
        assert row["first_name"] == ERASED
        assert (row["lifetime_spend"], row["purchase_count"]) == tuple(before)
        assert len(conn.execute(select(events.c.id)).all()) == event_count
        call = conn.execute(select(events.c.payload).where(events.c.external_id == "c1")).one()
        assert call.payload["emotion"] == "happy"


def test_an_erased_customer_gets_no_new_events(engine: Engine, now: datetime) -> None:
    cid = _rich_customer(engine, now)
    erase_customer(UnitOfWork(engine), CLI, cid, now=now, confirm=True)
    report = ingest_events(
        UnitOfWork(engine), [factories.purchase("after", customer_id=cid)], now=now
    )
    assert report.results[0].status == "rejected"


def test_erasure_needs_confirmation_and_happens_once(engine: Engine, now: datetime) -> None:
    cid = _rich_customer(engine, now)
    with pytest.raises(InvalidInput):
        erase_customer(UnitOfWork(engine), CLI, cid, now=now, confirm=False)
    erase_customer(UnitOfWork(engine), CLI, cid, now=now, confirm=True)
    with pytest.raises(Conflict):
        erase_customer(UnitOfWork(engine), CLI, cid, now=now, confirm=True)


def test_staff_below_manager_may_neither_export_nor_erase(engine: Engine, now: datetime) -> None:
    cid = _rich_customer(engine, now)
    with engine.connect() as conn:
        home = conn.scalar(select(customers.c.home_location_id).where(customers.c.id == cid))
    barista = Actor(kind="staff", id=1, role=Role.staff, locations=frozenset({home}))
    with pytest.raises(Forbidden):
        export_customer(UnitOfWork(engine), barista, cid, now=now)
    with pytest.raises(Forbidden):
        erase_customer(UnitOfWork(engine), barista, cid, now=now, confirm=True)


def test_erasing_a_customer_also_erases_the_duplicates_merged_into_them(
    engine: Engine, now: datetime
) -> None:
    keep = factories.customer(engine, now, first_name="Angela", email="angela@example.com")
    dup = factories.customer(engine, now, first_name="Angela", last_name="Moreira")
    customer_service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)

    erase_customer(UnitOfWork(engine), CLI, keep, now=now, confirm=True)

    dump = _whole_database(engine)
    assert "Angela" not in dump
    assert "Moreira" not in dump


def test_goodwill_words_in_the_loyalty_ledger_are_exported_and_erased_but_the_points_stay(
    engine: Engine, now: datetime
) -> None:
    load(engine, now, program_text("cafe"))
    cid = _rich_customer(engine, now)
    grant_goodwill(UnitOfWork(engine), CLI, cid, 20, "Angela's cold latte in Florida", now)
    available = balance(engine, cid)

    document = export_customer(UnitOfWork(engine), CLI, cid, now=now)
    reasons = [e["reason"] for e in document["other_records"]["loyalty_ledger"]]
    assert "goodwill: Angela's cold latte in Florida" in reasons

    erase_customer(UnitOfWork(engine), CLI, cid, now=now, confirm=True)

    dump = _whole_database(engine)
    for secret in SECRETS:
        assert secret not in dump, f"{secret!r} survived erasure"
        assert secret.casefold() not in dump.casefold(), f"{secret!r} survived in some case"
    assert balance(engine, cid) == available
    assert ledger_sums_match(engine)


def test_a_plan_decisions_reasons_lose_the_household_names_they_quote(
    engine: Engine, now: datetime
) -> None:
    cid = _rich_customer(engine, now)
    with engine.begin() as conn:
        conn.execute(
            insert(plan_decisions).values(
                customer_id=cid,
                moment="household_birthday",
                occasion="2026",
                plan_date=now.date(),
                status="planned",
                purpose="relationship",
                priority=50,
                detail="Angela's husband Rui Moreira",
                reasons=["household birthday (Angela's husband Rui Moreira)", "call by Dave"],
                created_at=now,
            )
        )

    erase_customer(UnitOfWork(engine), CLI, cid, now=now, confirm=True)

    with engine.connect() as conn:
        row = conn.execute(select(plan_decisions.c.detail, plan_decisions.c.reasons)).one()
    assert "Moreira" not in json.dumps(list(row))
    assert row.reasons == [ERASED, ERASED]


def test_a_retried_enrolment_after_erasure_hands_back_no_trace_of_the_person(
    api_client: TestClient, runtime: Runtime
) -> None:
    body = {"first_name": "Angela", "last_name": "Moreira", "email": "angela@example.com"}
    created = api_client.post("/api/v1/customers", json=body, headers={"Idempotency-Key": "k-1"})
    cid = created.json()["profile"]["id"]

    erase_customer(runtime.uow(), CLI, cid, now=runtime.now(), confirm=True)
    retried = api_client.post("/api/v1/customers", json=body, headers={"Idempotency-Key": "k-1"})

    assert retried.status_code == 201
    assert retried.headers["Idempotent-Replayed"] == "true"  # the first answer, not a new twin
    assert retried.json()["profile"]["id"] == cid
    for secret in ("Angela", "Moreira", "angela@example.com"):
        assert secret not in retried.text
        assert secret not in _whole_database(runtime.engine), f"{secret!r} survived erasure"


def test_a_kept_check_in_answer_naming_the_customer_is_blanked_by_erasure(
    engine: Engine, now: datetime
) -> None:
    cid = _rich_customer(engine, now)
    digest = idempotency.request_hash({"customer_id": cid, "location": "CAFE-LIS"})
    idempotency.claim(UnitOfWork(engine), "till-1", "s", digest, now=now)
    answer = {"customer_id": cid, "name": "Angela Moreira", "usual": ["Angela's London Fog"]}
    idempotency.remember(UnitOfWork(engine), "till-1", "s", idempotency.StoredAnswer(201, answer))

    erase_customer(UnitOfWork(engine), CLI, cid, now=now, confirm=True)

    again = idempotency.claim(UnitOfWork(engine), "till-1", "s", digest, now=now)
    assert again == idempotency.StoredAnswer(
        201, {"customer_id": cid, "name": ERASED, "usual": [ERASED]}
    )
