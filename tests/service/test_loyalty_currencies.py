"""A program earns in its own money: a receipt in dollars or pounds counts at the program's
rate for that currency, and a currency it has no rate for earns nothing.

The café chain's program is in euros and runs in Lisbon, London and Brooklyn. Before, a
Brooklyn receipt of 10.00 USD earned as if it were 10.00 EUR and its spend was added to
euro spend towards Gold.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from regulars.domain.earning import MemberEarning, Rates, earn_purchase, in_program_money
from regulars.domain.errors import InvalidInput
from regulars.domain.program import load_program
from regulars.store.loyalty_tables import loyalty_members, loyalty_qualifying
from tests import factories
from tests.loyalty_support import balance, ingest, ledger_sums_match, load, program_text

IMMEDIATE = {"  pending_days: 7": "  pending_days: 0", "  welcome_bonus: 25": "  welcome_bonus: 0"}
LATTES = [{"sku": "latte", "category": "drinks", "unit_price": 500, "quantity": 4}]  # 20.00


def _lattes(cid: int, currency: str) -> dict[str, object]:
    return factories.purchase(
        "p1", customer_id=cid, location="CAFE-NYC", currency=currency, lines=LATTES
    )


def _spend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.coalesce(func.sum(loyalty_qualifying.c.spend), 0))))


def _brooklyn(engine: Engine, now: datetime) -> int:
    factories.location(engine, now, "CAFE-LIS")
    factories.location(engine, now, "CAFE-NYC", timezone="America/New_York", brand="Café Regulars")
    load(engine, now, program_text("cafe", **IMMEDIATE))
    return factories.customer(engine, now, home_location="CAFE-NYC")


def test_a_dollar_receipt_earns_and_counts_at_the_programs_rate(
    engine: Engine, now: datetime
) -> None:
    cid = _brooklyn(engine, now)

    ingest(engine, now, _lattes(cid, "USD"))

    # 20.00 USD at 0.92 is 18.40 EUR: 18 points at one per euro, 1 840 cents towards Gold.
    assert balance(engine, cid) == (18, 0)
    assert _spend(engine) == 1840


def test_returning_a_dollar_receipt_takes_back_exactly_what_it_gave(
    engine: Engine, now: datetime
) -> None:
    cid = _brooklyn(engine, now)
    ingest(engine, now, _lattes(cid, "USD"))

    ingest(
        engine,
        now,
        factories.purchase_return("r1", lines=[{"sku": "latte", "quantity": 4}], customer_id=cid),
    )

    assert balance(engine, cid) == (0, 0)
    assert _spend(engine) == 0
    assert ledger_sums_match(engine)


def test_a_currency_without_a_rate_earns_nothing_and_enrols_nobody(
    engine: Engine, now: datetime
) -> None:
    cid = _brooklyn(engine, now)

    ingest(engine, now, _lattes(cid, "JPY"))

    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(loyalty_members)) == 0
    assert _spend(engine) == 0


def test_conversion_is_exact_decimal_and_rounds_down() -> None:
    assert in_program_money(1000, Decimal("0.92")) == 920
    assert in_program_money(999, Decimal("1.17")) == 1168  # 1 168.83 → 1 168
    program = load_program(program_text("cafe", **IMMEDIATE))
    rates = Rates.of(program)
    earned = earn_purchase(
        rates,
        MemberEarning(),
        [("drinks", 2000)],
        source="pos",
        local_day=date(2026, 5, 1),
        tier_index=0,
        exchange=rates.exchange_of("GBP"),
    )
    assert (earned.spend, earned.basis) == (2340, 2000 * 100)  # basis: in the receipt's money


@pytest.mark.parametrize(
    ("rates", "field"),
    [
        ('  EUR: "1"', "exchange_rates"),
        ('  USD: "-0.92"', "exchange_rates.USD"),
        ('  usd: "0.92"', "exchange_rates"),
    ],
)
def test_a_wrong_exchange_rate_is_refused_by_field(rates: str, field: str) -> None:
    text = program_text("cafe").replace('  USD: "0.92"', rates)
    with pytest.raises(InvalidInput) as refused:
        load_program(text)
    assert refused.value.problems[0].field.startswith(field)
