"""Small builders for test data, all going through the real services."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from regulars.domain.access import CLI, Actor
from regulars.services import customers as customer_service
from regulars.services.ingest import ingest_events
from regulars.services.outcomes import record_outcome
from regulars.store.uow import UnitOfWork


def location(engine: Engine, now: datetime, code: str = "CAFE-LIS", **extra: Any) -> int:
    data = {"code": code, "name": f"Location {code}", "timezone": "Europe/Lisbon"} | extra
    return customer_service.create_location(UnitOfWork(engine), CLI, data, now=now)


def staff(engine: Engine, now: datetime, email: str = "rita@example.com", **extra: Any) -> int:
    data = {"email": email, "name": "Rita", "role": "rep", "locations": ["CAFE-LIS"]} | extra
    return customer_service.create_staff(UnitOfWork(engine), CLI, data, now=now)


def dealership(engine: Engine, now: datetime, code: str = "DEAL-POR", **extra: Any) -> int:
    return location(engine, now, code=code, kind="dealership", **extra)


def rep(
    engine: Engine, now: datetime, name: str = "Rui", location: str = "DEAL-POR", **extra: Any
) -> int:
    """A rep called ``name`` (e-mail ``name@example.com``) who works at ``location`` only."""
    email = f"{name.lower()}@example.com"
    return staff(engine, now, email=email, name=name, locations=[location], **extra)


CAR = [{"sku": "car", "category": "cars", "unit_price": 3_000_000}]


def car_buyer(
    engine: Engine,
    now: datetime,
    owner: int,
    *,
    home: str = "DEAL-POR",
    external_id: str = "car-1",
    **fields: Any,
) -> int:
    """Vera, born on 1 May 1970, advised by ``owner``, who bought a 30 000 EUR car in
    January 2025: a big spender whose birthday the dealership playbook marks with a call."""
    data = {
        "first_name": "Vera",
        "phone": "+351910000001",
        "birthday": "1970-05-01",
        "home_location": home,
        "owner_staff_id": owner,
    } | fields
    cid = customer(engine, now, **data)
    car = purchase(external_id, customer_id=cid, at="2025-01-10T10:00:00+00:00", lines=CAR)
    ingest_events(UnitOfWork(engine), [car], now=now)
    return cid


def customer(engine: Engine, now: datetime, **fields: Any) -> int:
    data = {"first_name": "Ana", "last_name": "Silva"} | fields
    return customer_service.create_customer(UnitOfWork(engine), CLI, data, now=now)


def purchase(
    external_id: str,
    *,
    at: str = "2026-04-30T10:00:00+01:00",
    lines: list[dict[str, Any]] | None = None,
    **envelope: Any,
) -> dict[str, Any]:
    """A purchase event as a till would send it."""
    return {
        "type": "purchase",
        "source": "pos",
        "external_id": external_id,
        "occurred_at": at,
        "lines": lines or [{"sku": "latte", "category": "drinks", "unit_price": 350}],
        **envelope,
    }


def lens_buyer(engine: Engine, now: datetime) -> int:
    """A customer whose purchase "p1" was three lenses at 100.00 EUR less 10.00 EUR off the
    line (290.00 EUR paid)."""
    cid = customer(engine, now)
    lines = [{"sku": "lens", "unit_price": 10_000, "quantity": 3, "discount": 1_000}]
    ingest_events(UnitOfWork(engine), [purchase("p1", customer_id=cid, lines=lines)], now=now)
    return cid


def purchase_return(
    external_id: str,
    *,
    of: str = "p1",
    lines: list[dict[str, Any]],
    at: str = "2026-04-30T12:00:00+01:00",
    **envelope: Any,
) -> dict[str, Any]:
    """A return event as a till would send it: ``lines`` of the purchase ``of`` brought back."""
    return {
        "type": "return",
        "source": "pos",
        "external_id": external_id,
        "occurred_at": at,
        "purchase_external_id": of,
        "lines": lines,
        **envelope,
    }


def unanswered(engine: Engine, actor: Actor, task_id: int, times: int, start: datetime) -> int:
    """The call ``task_id`` goes unanswered ``times`` times, once a day from ``start`` (four hours
    past it), each answer taking the call it left; returns the task the last one left."""
    for attempt in range(times):
        answer = record_outcome(
            UnitOfWork(engine),
            actor,
            task_id,
            {"outcome": "not_reached"},
            now=start + timedelta(days=attempt, hours=4),
        )
        [task_id] = answer["new_tasks"]
    return task_id
