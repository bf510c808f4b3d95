"""Small builders for test data, all going through the real services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from regulars.domain.access import CLI
from regulars.services import customers as customer_service
from regulars.store.uow import UnitOfWork


def location(engine: Engine, now: datetime, code: str = "CAFE-LIS", **extra: Any) -> int:
    data = {"code": code, "name": f"Location {code}", "timezone": "Europe/Lisbon"} | extra
    return customer_service.create_location(UnitOfWork(engine), CLI, data, now=now)


def staff(engine: Engine, now: datetime, email: str = "rita@example.com", **extra: Any) -> int:
    data = {"email": email, "name": "Rita", "role": "rep", "locations": ["CAFE-LIS"]} | extra
    return customer_service.create_staff(UnitOfWork(engine), CLI, data, now=now)


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
