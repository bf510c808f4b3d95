"""Ingest properties: any batch, twice or in any order, ends in the same timeline and facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from regulars.services.ingest import ingest_events
from regulars.store.db import make_engine
from regulars.store.schema import metadata
from regulars.store.tables import customers, events
from regulars.store.uow import UnitOfWork
from tests import factories

NOW = datetime(2026, 5, 1, tzinfo=UTC)

event_strategy = st.builds(
    lambda n, customer, minutes, price, qty, kind: {
        "type": kind,
        "source": "pos",
        "external_id": f"e{n}",
        "occurred_at": (NOW - timedelta(minutes=minutes)).isoformat(),
        "customer_id": customer,
        **(
            {"lines": [{"sku": "x", "unit_price": price, "quantity": qty}]}
            if kind == "purchase"
            else {}
        ),
    },
    st.integers(0, 30),
    st.integers(1, 3),
    st.integers(0, 100_000),
    st.integers(0, 10_000),
    st.integers(1, 3),
    st.sampled_from(["purchase", "visit", "note"]),
).map(lambda e: e if e["type"] != "note" else {**e, "text": "likes oat milk"})


def _state(items: list[list[dict[str, Any]]]) -> tuple[Any, Any]:
    with TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'p.db'}")
        metadata.create_all(engine)
        for _ in range(3):
            factories.customer(engine, NOW)
        for batch in items:
            ingest_events(UnitOfWork(engine), batch, now=NOW)
        with engine.connect() as conn:
            timeline = sorted(
                (r.source, r.external_id, r.customer_id, r.type, r.amount)
                for r in conn.execute(select(events))
            )
            facts = sorted(
                tuple(r)
                for r in conn.execute(
                    select(
                        customers.c.id,
                        customers.c.purchase_count,
                        customers.c.lifetime_spend,
                        customers.c.last_purchase_at,
                        customers.c.last_visit_at,
                    )
                )
            )
        engine.dispose()
    return timeline, facts


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(event_strategy, max_size=25, unique_by=lambda e: e["external_id"]),
    st.randoms(use_true_random=False),
)
def test_ingest_is_idempotent_and_independent_of_order_and_batching(
    batch: list[dict[str, Any]], rng: Any
) -> None:
    once = _state([batch])
    shuffled = list(batch)
    rng.shuffle(shuffled)
    cut = len(shuffled) // 2
    # Same events, other order, split in two batches, each sent twice.
    again = _state([shuffled[:cut], shuffled[:cut], shuffled[cut:], batch])
    assert once == again
