"""The simulator takes a return out of the month its purchase counted in, as the ledger does."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine

from regulars.domain.access import CLI
from regulars.domain.program import load_program
from regulars.insight.simulator import simulate
from regulars.services import loyalty, loyalty_jobs
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import ingest, program_text

LIS = "CAFE-LIS"


def _buy(engine: Engine, cid: int, external_id: str, at: str, cents: int) -> None:
    line = {"sku": "beans", "category": "drinks", "unit_price": cents}
    event = factories.purchase(external_id, customer_id=cid, location=LIS, at=at, lines=[line])
    ingest(engine, datetime.fromisoformat(at), event)


def _return(engine: Engine, cid: int, purchase: str, at: str) -> None:
    event: dict[str, Any] = {
        "type": "return",
        "source": "pos",
        "external_id": f"back-{purchase}",
        "customer_id": cid,
        "occurred_at": at,
        "location": LIS,
        "purchase_external_id": purchase,
        "lines": [{"sku": "beans", "quantity": 1}],
    }
    ingest(engine, datetime.fromisoformat(at), event)


def test_a_purchase_returned_a_year_later_does_not_cost_a_gold_member_this_years_spend(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, LIS)
    program = program_text("cafe", **{"  grace_percent: 10": "  grace_percent: 0"})
    loyalty.load_program_file(UnitOfWork(engine), CLI, program, now=now)
    regular = factories.customer(engine, now)
    passer_by = factories.customer(engine, now, first_name="Rui")
    _buy(engine, regular, "big", "2025-07-10T10:00:00+00:00", 30000)  # Gold at once
    _buy(engine, regular, "oct", "2025-10-15T10:00:00+00:00", 25000)  # Gold on its own
    # Brought back under warranty a year on: July 2025's 300.00 goes, October's 250.00 stays.
    _return(engine, regular, "big", "2026-07-05T10:00:00+00:00")
    _buy(engine, passer_by, "walk-in", "2026-08-03T10:00:00+00:00", 300)  # August: July's review

    sim = simulate(
        UnitOfWork(engine, readonly=True),
        load_program(program),
        start=date(2025, 7, 1),
        end=date(2026, 8, 31),
    )

    # August 2025 to July 2026 holds October's 250.00: the regular stays Gold, live...
    review = datetime.fromisoformat("2026-08-04T02:00:00+00:00")
    loyalty_jobs.review_tiers(UnitOfWork(engine), CLI, now=review)
    (status,) = loyalty.member_status(UnitOfWork(engine), CLI, regular, now=review)
    assert status["tier"]["code"] == "gold"
    # ... and in the simulation of the same history.
    assert sim.proposed.tiers_after == {"member": 1, "gold": 1}
    assert sim.proposed.moved_down == 0


def test_spend_brought_back_does_not_carry_a_member_to_gold_in_the_simulation(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, LIS)
    cid = factories.customer(engine, now)
    _buy(engine, cid, "big", "2026-03-02T10:00:00+00:00", 15000)
    _return(engine, cid, "big", "2026-03-03T10:00:00+00:00")
    _buy(engine, cid, "small", "2026-03-04T10:00:00+00:00", 6000)

    sim = simulate(
        UnitOfWork(engine, readonly=True),
        load_program(program_text("cafe")),
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
    )

    # 150.00 bought and brought back, then 60.00: far from Gold's 200.00.
    assert sim.proposed.tiers_after == {"member": 1, "gold": 0}
