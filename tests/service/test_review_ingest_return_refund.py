"""A return's refund cannot be more than was paid for the units brought back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from regulars.services.ingest import ingest_events
from regulars.store.tables import customers
from regulars.store.uow import UnitOfWork
from tests import factories


def _return(cid: int, external_id: str, quantity: int, **extra: Any) -> dict[str, Any]:
    return factories.purchase_return(
        external_id, lines=[{"sku": "lens", "quantity": quantity}], customer_id=cid, **extra
    )


def test_a_refund_larger_than_what_was_paid_is_refused_by_name_and_changes_nothing(
    engine: Engine, now: datetime
) -> None:
    cid = factories.lens_buyer(engine, now)

    typo = ingest_events(UnitOfWork(engine), [_return(cid, "r1", 1, refund=966_700)], now=now)
    exact = ingest_events(UnitOfWork(engine), [_return(cid, "r2", 1, refund=9_666)], now=now)
    rest = ingest_events(UnitOfWork(engine), [_return(cid, "r3", 2, refund=19_000)], now=now)

    (verdict,) = typo.results
    assert verdict.status == "rejected"
    assert [p.field for p in verdict.errors] == ["refund"]
    assert "9666" in verdict.errors[0].message
    assert exact.results[0].status == "created"
    assert rest.results[0].status == "created"  # less back than paid (a restocking fee)
    with engine.connect() as conn:
        assert conn.scalar(select(customers.c.lifetime_spend)) == 29_000 - 9_666 - 19_000
