"""Amounts read as the till prints them, exact to the cent at any size, signs kept."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from regulars.domain.money import amount_text, money_text


def test_amounts_read_in_units_and_cents() -> None:
    assert money_text(1234, "EUR") == "12.34 EUR"
    assert money_text(5, "GBP") == "0.05 GBP"
    assert amount_text(123456789) == "1,234,567.89"
    assert amount_text(-250) == "-2.50"


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_the_text_reads_back_as_exactly_the_amount(minor: int) -> None:
    text = amount_text(minor).replace(",", "")
    sign = -1 if text.startswith("-") else 1
    whole, cents = text.lstrip("-").split(".")
    assert len(cents) == 2
    assert sign * (int(whole) * 100 + int(cents)) == minor
