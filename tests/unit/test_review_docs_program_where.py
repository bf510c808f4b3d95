"""`regulars program show` says in plain words where a program earns."""

from __future__ import annotations

from regulars.domain.program import describe, load_program
from tests.loyalty_support import program_text


def _first_sentence(text: str) -> str:
    return describe(load_program(text))[0]


def test_a_program_for_a_brand_and_a_location_names_both_in_a_sentence() -> None:
    # The café program earns at CAFE-LIS and at every café of its brand; the explanation used
    # to read "applies CAFE-LIS, Café Regulars.", which a manager cannot read out.
    sentence = _first_sentence(program_text("cafe"))
    assert "earns at CAFE-LIS and at every location of the brand Café Regulars." in sentence


def test_a_program_without_a_place_earns_everywhere() -> None:
    where = "applies_to:\n  brands: [Café Regulars]\n  locations: [CAFE-LIS]\n"
    text = program_text("cafe", **{where: ""})
    assert "earns at every location." in _first_sentence(text)
