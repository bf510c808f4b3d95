"""The simulator's period runs from and to the program's own midnight, not UTC's."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine

from regulars.domain.program import load_program
from regulars.insight.simulator import simulate
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import ingest, program_text

TOKYO = "CAFE-TYO"


def _coffee(engine: Engine, cid: int, external_id: str, at: str) -> None:
    line = {"sku": "coffee", "category": "drinks", "unit_price": 1000}
    event = factories.purchase(external_id, customer_id=cid, location=TOKYO, at=at, lines=[line])
    ingest(engine, datetime.fromisoformat(at), event)


def test_a_tokyo_mornings_purchases_count_in_the_tokyo_month_they_were_made(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, TOKYO, timezone="Asia/Tokyo")
    cid = factories.customer(engine, now)
    _coffee(engine, cid, "first-morning", "2026-03-01T08:00:00+09:00")  # 28 Feb in UTC
    _coffee(engine, cid, "after-march", "2026-04-01T08:00:00+09:00")  # 31 March in UTC
    tokyo = program_text(
        "cafe",
        **{
            "timezone: Europe/Lisbon": "timezone: Asia/Tokyo",
            "  locations: [CAFE-LIS]": f"  locations: [{TOKYO}]",
            "  welcome_bonus: 25": "  welcome_bonus: 0",
        },
    )

    sim = simulate(
        UnitOfWork(engine, readonly=True),
        load_program(tokyo),
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
    )

    # March in Tokyo holds the first morning's coffee, and not April's.
    assert sim.events == 1
    assert sim.proposed.issued == 10
    assert sim.proposed.monthly_issued == {"2026-03": 10}
