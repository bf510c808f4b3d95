"""Progress to the next tier states the spend still needed to the cent, at any size."""

from __future__ import annotations

from datetime import date

from regulars.domain.program import load_program
from regulars.domain.tiers import progress
from tests.loyalty_support import program_text

GOLD_LINE = "      threshold: 20000           # 200.00 EUR in the last 12 months"


def test_a_large_spend_threshold_is_stated_to_the_cent() -> None:
    # 90 071 992 547 409.93 EUR: one cent more than a float can tell from its neighbour
    program = load_program(program_text("cafe", **{GOLD_LINE: "      threshold: 9007199254740993"}))

    words = progress(program, 0, 0, date(2026, 5, 1)).words

    assert words.startswith("90,071,992,547,409.93 EUR more spend")


def test_a_small_shortfall_reads_in_euros_and_cents() -> None:
    program = load_program(program_text("cafe"))

    assert progress(program, 0, 19995, None).words.startswith("0.05 EUR more spend")
