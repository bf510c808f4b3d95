"""Erasure's text scrubbing: no words survive, while numbers, flags and codes do."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from regulars.services.privacy import ERASED, KEEP_KEYS, blank_text, scrub

keys = st.sampled_from(["text", "notes", "name", "sku", "status", "amount", "lines", "x"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)


def _strings(value: Any, key: str | None = None) -> list[tuple[str | None, str]]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, k)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v, key)]
    return [(key, value)] if isinstance(value, str) else []


def _numbers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [value] if isinstance(value, bool | int) or value is None else []


@given(json_values)
def test_blanking_leaves_no_words_but_codes_and_keeps_every_number(value: Any) -> None:
    cleaned = blank_text(value)
    for key, text in _strings(cleaned):
        assert text in ("", ERASED) or key in KEEP_KEYS
    assert _numbers(cleaned) == _numbers(value)


@given(json_values)
def test_scrubbing_is_idempotent_and_keeps_the_shape(value: Any) -> None:
    once = scrub(value)
    assert scrub(once) == once
    assert _numbers(once) == _numbers(value)


def test_a_note_keeps_its_type_and_amounts_but_loses_its_words() -> None:
    payload = {
        "text": "Back from Florida",
        "tags": ["travel"],
        "lines": [{"sku": "latte", "quantity": 2, "unit_price": 350}],
    }
    assert scrub(payload) == {
        "text": ERASED,
        "tags": [],
        "lines": [{"sku": "latte", "quantity": 2, "unit_price": 350}],
    }
