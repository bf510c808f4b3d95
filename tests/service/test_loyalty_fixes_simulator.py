"""The simulator starts and reviews tiers as the live engine does."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine

from regulars.domain.program import load_program
from regulars.insight.simulator import simulate
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import ingest, program_text

LIS = "CAFE-LIS"


def _coffee(engine: Engine, cid: int, at: str, cents: int) -> None:
    line = {"sku": "coffee", "category": "drinks", "unit_price": cents}
    when = datetime.fromisoformat(at)
    ingest(
        engine,
        when,
        factories.purchase(f"{cid}-{at}", customer_id=cid, location=LIS, at=at, lines=[line]),
    )


def test_a_regular_who_spends_golds_threshold_every_twelve_months_stays_gold_in_the_simulation(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, LIS)
    regular = factories.customer(engine, now)
    passer_by = factories.customer(engine, now, first_name="Rui")
    # 17.00 in each month from May 2025 to June 2026: any twelve of them make 204.00, Gold 200.00.
    for year, month in [(2025, m) for m in range(5, 13)] + [(2026, m) for m in range(1, 7)]:
        _coffee(engine, regular, f"{year}-{month:02d}-15T10:00:00+00:00", 1700)
    _coffee(engine, passer_by, "2026-07-02T10:00:00+00:00", 300)  # July comes: June's review

    sim = simulate(
        UnitOfWork(engine, readonly=True),
        load_program(program_text("cafe", **{"  grace_percent: 10": "  grace_percent: 0"})),
        start=date(2026, 5, 1),
        end=date(2026, 7, 31),
    )

    assert sim.proposed.tiers_before == {"member": 1, "gold": 1}
    assert sim.proposed.tiers_after == {"member": 1, "gold": 1}
    assert sim.proposed.moved_down == 0


def test_a_program_on_points_starts_a_member_with_50_points_of_history_below_gold(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, LIS)
    cid = factories.customer(engine, now)
    # 50.00 before the period: 50 points at a point per euro, +25 welcome; Gold needs 100 points
    # (it would be "5 000" if the cents paid were counted as points).
    _coffee(engine, cid, "2026-04-01T10:00:00+01:00", 5000)
    _coffee(engine, cid, "2026-04-20T10:00:00+01:00", 100)
    gold = "      threshold: 20000           # 200.00 EUR in the last 12 months"
    on_points = program_text(
        "cafe", **{"  qualify_on: spend": "  qualify_on: points", gold: "      threshold: 100"}
    )

    sim = simulate(
        UnitOfWork(engine, readonly=True),
        load_program(on_points),
        start=date(2026, 4, 15),
        end=date(2026, 4, 30),
    )

    assert sim.proposed.tiers_before == {"member": 1, "gold": 0}
