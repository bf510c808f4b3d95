"""The member card's barcode must scan back to exactly the card number printed under it."""

from __future__ import annotations

import string
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regulars.web.barcodes import (
    PATTERNS,
    START_B,
    START_C,
    STOP,
    code128_modules,
    code128_svg,
    qr_svg,
)

WIDTHS_TO_VALUE = {pattern[:6]: value for value, pattern in enumerate(PATTERNS)}


def decode(runs: list[tuple[bool, int]]) -> str:
    """A scanner's view: read the widths back into symbols, check the checksum, decode."""
    widths = "".join(str(width) for _, width in runs)
    assert runs[0][0] is True, "a barcode starts with a bar"
    symbols = [WIDTHS_TO_VALUE[widths[i : i + 6]] for i in range(0, len(widths) - 7, 6)]
    assert widths[-7:] == PATTERNS[STOP]
    start, *data, checksum = symbols
    assert checksum == (start + sum(pos * v for pos, v in enumerate(data, 1))) % 103
    if start == START_C:
        return "".join(f"{value:02d}" for value in data)
    assert start == START_B
    return "".join(chr(value + 32) for value in data)


def test_every_symbol_in_the_table_is_eleven_modules_with_an_even_number_of_bar_modules() -> None:
    assert len(PATTERNS) == 107
    assert len({p[:6] for p in PATTERNS[:106]}) == 106
    for value, pattern in enumerate(PATTERNS):
        widths = [int(w) for w in pattern]
        assert sum(widths) == (13 if value == STOP else 11)
        assert sum(widths[0::2]) % 2 == 0, f"symbol {value} breaks the parity rule"


card_numbers = st.text(
    alphabet=string.ascii_uppercase + string.digits + "-", min_size=4, max_size=40
)


@given(card_numbers)
def test_a_scanner_reads_back_the_card_number_that_was_printed(card: str) -> None:
    assert decode(code128_modules(card)) == card


def test_an_all_digit_card_is_packed_two_digits_per_symbol_to_fit_a_wallet_card() -> None:
    digits = code128_modules("12345678")
    letters = code128_modules("ABCDEFGH")
    assert sum(w for _, w in digits) < sum(w for _, w in letters)
    assert decode(digits) == "12345678"


def test_a_known_card_number_encodes_to_the_published_symbol_values() -> None:
    # "RG-1" in code set B: R=50 G=39 -=13 1=17;
    # checksum (104 + 50·1 + 39·2 + 13·3 + 17·4) % 103 = 339 % 103 = 30.
    runs = code128_modules("RG-1")
    widths = "".join(str(w) for _, w in runs)
    expected = [104, 50, 39, 13, 17, 30]
    assert widths == "".join(PATTERNS[v] for v in expected) + PATTERNS[STOP]


def test_characters_a_card_cannot_hold_are_refused_rather_than_printed_wrongly() -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        code128_modules("CAFÉ-1")
    with pytest.raises(ValueError, match="at least one"):
        code128_modules("")


def test_the_barcode_svg_is_well_formed_titled_and_escapes_its_text() -> None:
    svg = code128_svg("<A&B>")
    root = ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input
    assert root.tag.endswith("svg")
    assert "<A&B>" not in svg
    assert "&lt;A&amp;B&gt;" in svg


def test_the_qr_code_is_an_svg_with_a_title_naming_the_card() -> None:
    svg = qr_svg("RG-000123")
    root = ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input
    assert root.tag.endswith("svg")
    assert "Card number RG-000123" in svg
    assert "viewBox" in svg, "scales to the card's size instead of being cropped"
