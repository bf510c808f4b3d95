"""Returns only take back what their purchase counted in a program, never more."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI
from regulars.services import loyalty
from regulars.store.loyalty_tables import loyalty_qualifying
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import balance, ingest, load, program_text

LIS = "CAFE-LIS"
IMMEDIATE = {"  pending_days: 7": "  pending_days: 0", "  welcome_bonus: 25": "  welcome_bonus: 0"}


def _qualifying_spend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.sum(loyalty_qualifying.c.spend))) or 0)


def _return(external_id: str, cid: int, purchase: str, at: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "return",
        "source": "pos",
        "external_id": external_id,
        "customer_id": cid,
        "occurred_at": at,
        "purchase_external_id": purchase,
        "lines": [{"sku": "jacket", "quantity": 1}],
        **extra,
    }


def test_returning_a_purchase_made_outside_the_program_leaves_the_tier_spend_alone(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, LIS)
    factories.location(engine, now, "SHOP-X")
    load(engine, now, program_text("cafe", **IMMEDIATE))
    cid = factories.customer(engine, now)
    latte = [{"sku": "latte", "category": "drinks", "unit_price": 1500}]
    jacket = [{"sku": "jacket", "category": "clothes", "unit_price": 15000}]
    ingest(engine, now, factories.purchase("p1", customer_id=cid, location=LIS, lines=latte))
    ingest(engine, now, factories.purchase("p2", customer_id=cid, location="SHOP-X", lines=jacket))
    assert _qualifying_spend(engine) == 1500

    ingest(engine, now, _return("r2", cid, "p2", "2026-04-30T12:00:00+01:00", location="SHOP-X"))

    # The jacket never counted towards Gold at the café: its return must not cost the latte.
    assert _qualifying_spend(engine) == 1500
    assert balance(engine, cid) == (15, 0)


def test_returning_a_purchase_made_before_joining_an_opt_in_program_costs_no_tier_spend(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, "AUTO-MUC", timezone="Europe/Berlin")
    load(engine, now, program_text("dealership", **{"  pending_days: 30": "  pending_days: 0"}))
    cid = factories.customer(engine, now)
    service = [{"sku": "jacket", "category": "service", "unit_price": 11900}]
    ingest(
        engine, now, factories.purchase("s1", customer_id=cid, location="AUTO-MUC", lines=service)
    )
    assert loyalty.enrol(UnitOfWork(engine), CLI, cid, "dealership", now=now)

    ingest(engine, now, _return("r1", cid, "s1", "2026-04-30T12:00:00+01:00"))

    # Bought before joining, it never counted towards a tier: returning it costs none.
    assert _qualifying_spend(engine) == 0
