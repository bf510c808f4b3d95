"""Earning through ingest: members earn on what they paid, returns take it back, tiers rise."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from regulars.domain.access import CLI
from regulars.services import loyalty
from regulars.store.tables import events
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import (
    balance,
    entries,
    ingest,
    ledger_sums_match,
    load,
    program_text,
)

LIS = "CAFE-LIS"
IMMEDIATE = {"  pending_days: 7": "  pending_days: 0", "  welcome_bonus: 25": "  welcome_bonus: 0"}


def _cafe(engine: Engine, now: datetime, **changes: str) -> int:
    factories.location(engine, now, LIS)
    load(engine, now, program_text("cafe", **(IMMEDIATE | changes)))
    return factories.customer(engine, now)


def _buy(external_id: str, cid: int, *lines: tuple[str, str, int, int], **extra: object) -> dict:
    return factories.purchase(
        external_id,
        customer_id=cid,
        location=LIS,
        lines=[
            {"sku": sku, "category": category, "unit_price": price, "quantity": quantity}
            for sku, category, price, quantity in lines
        ],
        **extra,
    )


def test_a_purchase_earns_a_point_per_euro_actually_paid_and_never_on_fees(
    engine: Engine, now: datetime
) -> None:
    cid = _cafe(engine, now)
    purchase = _buy("p1", cid, ("latte", "drinks", 350, 2), ("card-fee", "fees", 150, 1))
    purchase["lines"][0]["discount"] = 100  # 7.00 − 1.00 paid for the lattes

    ingest(engine, now, purchase)

    assert balance(engine, cid) == (6, 0)
    assert ledger_sums_match(engine)


def test_retail_earns_double_and_the_reason_says_so(engine: Engine, now: datetime) -> None:
    cid = _cafe(engine, now)

    ingest(engine, now, _buy("p1", cid, ("beans", "retail", 1200, 1)))

    (earn,) = entries(engine, "earn")
    assert earn["available_delta"] == 24
    assert "category multipliers +12" in earn["reason"]


def test_points_stay_pending_for_the_return_window_with_the_welcome_bonus(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, LIS)
    load(engine, now, program_text("cafe"))
    cid = factories.customer(engine, now)

    ingest(engine, now, _buy("p1", cid, ("latte", "drinks", 350, 1)))

    assert balance(engine, cid) == (0, 3 + 25)
    status = loyalty.member_status(UnitOfWork(engine), CLI, cid, now=now)[0]
    assert status["pending_points"] == 28
    assert status["pending_until"] is not None


def test_the_second_third_and_fifth_purchases_earn_their_bonuses(
    engine: Engine, now: datetime
) -> None:
    cid = _cafe(engine, now)

    ingest(engine, now, *[_buy(f"p{n}", cid, ("tea", "drinks", 100, 1)) for n in range(1, 6)])

    assert balance(engine, cid)[0] == 5 + 10 + 20 + 50


def test_a_purchase_elsewhere_earns_nothing_in_this_program(engine: Engine, now: datetime) -> None:
    cid = _cafe(engine, now)
    factories.location(engine, now, "SHOP-X")

    ingest(engine, now, factories.purchase("p1", customer_id=cid, location="SHOP-X"))

    assert balance(engine, cid) == (0, 0)


def test_an_opt_in_program_ignores_customers_until_they_join(engine: Engine, now: datetime) -> None:
    factories.location(engine, now, "AUTO-MUC", timezone="Europe/Berlin")
    load(engine, now, program_text("dealership", **{"  pending_days: 30": "  pending_days: 0"}))
    cid = factories.customer(engine, now)
    service = [{"sku": "inspection", "category": "service", "unit_price": 11900}]

    ingest(
        engine, now, factories.purchase("s1", customer_id=cid, location="AUTO-MUC", lines=service)
    )
    assert balance(engine, cid, "dealership") == (0, 0)

    assert loyalty.enrol(UnitOfWork(engine), CLI, cid, "dealership", now=now)
    ingest(
        engine, now, factories.purchase("s2", customer_id=cid, location="AUTO-MUC", lines=service)
    )

    # 119.00 incl. 19 % VAT → 100.00 net → 200 points, service earns 300 %.
    assert balance(engine, cid, "dealership") == (600, 0)


def test_a_partner_purchase_earns_at_the_partner_rate(engine: Engine, now: datetime) -> None:
    factories.location(engine, now, "AUTO-MUC", timezone="Europe/Berlin")
    load(engine, now, program_text("dealership", **{"  pending_days: 30": "  pending_days: 0"}))
    cid = factories.customer(engine, now)
    loyalty.enrol(UnitOfWork(engine), CLI, cid, "dealership", now=now)

    fuel = factories.purchase(
        "f1",
        customer_id=cid,
        source="partner-fuel",
        lines=[{"sku": "diesel", "category": "fuel", "unit_price": 5950}],
    )
    ingest(engine, now, fuel)

    # 59.50 incl. VAT → 50.00 → 1 point per euro at FuelCo.
    assert balance(engine, cid, "dealership") == (50, 0)


def test_a_partial_return_takes_back_the_returned_lines_points_pro_rata(
    engine: Engine, now: datetime
) -> None:
    cid = _cafe(engine, now)
    ingest(engine, now, _buy("p1", cid, ("latte", "drinks", 350, 4)))
    assert balance(engine, cid) == (14, 0)

    ret = {
        "type": "return",
        "source": "pos",
        "external_id": "r1",
        "customer_id": cid,
        "occurred_at": "2026-04-30T12:00:00+01:00",
        "purchase_external_id": "p1",
        "lines": [{"sku": "latte", "quantity": 1}],
    }
    ingest(engine, now, ret)

    assert balance(engine, cid) == (14 - 3, 0)
    assert ledger_sums_match(engine)


def test_returning_a_whole_purchase_also_takes_back_its_bonuses(
    engine: Engine, now: datetime
) -> None:
    cid = _cafe(engine, now, **{"  welcome_bonus: 0": "  welcome_bonus: 25"})
    ingest(engine, now, _buy("p1", cid, ("latte", "drinks", 350, 2), ("fee", "fees", 50, 1)))
    assert balance(engine, cid) == (7 + 25, 0)

    for n, sku in enumerate(["latte", "latte"]):
        ingest(
            engine,
            now,
            {
                "type": "return",
                "source": "pos",
                "external_id": f"r{n}",
                "customer_id": cid,
                "occurred_at": "2026-04-30T12:00:00+01:00",
                "purchase_external_id": "p1",
                "lines": [{"sku": sku, "quantity": 1}],
            },
        )

    assert balance(engine, cid) == (0, 0)
    assert ledger_sums_match(engine)


def test_crossing_the_gold_threshold_promotes_at_once_and_tells_the_planner(
    engine: Engine, now: datetime
) -> None:
    cid = _cafe(engine, now, **{"  cap_per_day: 200": "  cap_per_day: 100000"})

    ingest(
        engine,
        now,
        _buy("p1", cid, ("espresso-machine", "equipment", 25000, 1)),
        _buy("p2", cid, ("latte", "drinks", 1000, 1), at="2026-04-30T11:00:00+01:00"),
    )

    with engine.connect() as conn:
        tier_events = conn.execute(
            select(events.c.payload).where(events.c.type == "tier").order_by(events.c.id)
        ).all()
    changes = [row.payload["change"] for row in tier_events]
    assert changes == ["enrolled", "up"]
    status = loyalty.member_status(UnitOfWork(engine), CLI, cid, now=now)[0]
    assert status["tier"]["code"] == "gold"
    assert status["next_tier"] is None
    # The second purchase earned Gold's +50 %: 10 + 5.
    assert balance(engine, cid)[0] == 250 + 15 + 10


def test_a_daily_cap_trims_points_and_says_so(engine: Engine, now: datetime) -> None:
    cid = _cafe(engine, now)

    ingest(engine, now, _buy("p1", cid, ("catering", "food", 30000, 1)))

    assert balance(engine, cid)[0] == 200
    assert "cap -100" in entries(engine, "earn")[0]["reason"]


def test_the_members_double_points_day_doubles_that_days_points(
    engine: Engine, now: datetime
) -> None:
    cid = _cafe(engine, now)
    ingest(engine, now, _buy("p0", cid, ("tea", "drinks", 100, 1)))
    loyalty.choose_double_points_day(UnitOfWork(engine), CLI, cid, "cafe", now.date(), now=now)

    ingest(
        engine, now, _buy("p1", cid, ("latte", "drinks", 1000, 1), at="2026-05-01T10:00:00+01:00")
    )

    assert balance(engine, cid)[0] == 1 + 10 + 10 + 10  # + the 2nd-purchase bonus


def test_ingesting_the_same_purchase_twice_earns_once(engine: Engine, now: datetime) -> None:
    cid = _cafe(engine, now)
    purchase = _buy("p1", cid, ("latte", "drinks", 350, 1))

    ingest(engine, now, purchase, purchase)
    ingest(engine, now, purchase)

    assert balance(engine, cid) == (3, 0)
    assert len(entries(engine, "earn")) == 1


def test_returning_a_purchase_that_only_earned_a_bonus_takes_the_bonus_back(
    engine: Engine, now: datetime
) -> None:
    cid = _cafe(engine, now)
    ingest(engine, now, _buy("p1", cid, ("latte", "drinks", 350, 1)))
    ingest(engine, now, _buy("p2", cid, ("sugar", "food", 50, 1)))  # 0 points + 2nd-visit 10
    assert balance(engine, cid) == (3 + 10, 0)

    ingest(
        engine,
        now,
        {
            "type": "return",
            "source": "pos",
            "external_id": "r2",
            "customer_id": cid,
            "occurred_at": "2026-04-30T12:00:00+01:00",
            "purchase_external_id": "p2",
            "lines": [{"sku": "sugar"}],
        },
    )

    assert balance(engine, cid) == (3, 0)
    assert ledger_sums_match(engine)
