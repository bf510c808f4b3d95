"""Dashboard charts: readable axes, the numbers also said in words, and no way to inject markup."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regulars.web.charts import Series, bar_chart, line_chart, nice_ticks, stacked_bar_chart

EVIL = "<script>alert(1)</script>"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input


def test_a_bar_chart_has_a_title_and_says_its_numbers_in_words_for_screen_readers() -> None:
    svg = bar_chart("Touches by channel", ["email", "phone", "in person"], [12, 5, 30])
    root = parse(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text == "Touches by channel"  # type: ignore[union-attr]
    desc = root.find(f"{ns}desc").text  # type: ignore[union-attr]
    assert desc == "email 12, phone 5, in person 30."
    assert len(root.findall(f".//{ns}rect")) == 3


def test_labels_typed_by_people_are_escaped_in_every_chart() -> None:
    charts = [
        bar_chart(EVIL, [EVIL], [1]),
        stacked_bar_chart(EVIL, [EVIL], [Series(EVIL, [1]), Series("b", [2])]),
        line_chart(EVIL, [EVIL, "w2"], [Series(EVIL, [1, 2]), Series("x", [None, 3])]),
    ]
    for svg in charts:
        assert "<script>" not in svg
        assert "&lt;script&gt;" in svg
        parse(svg)


def test_a_stacked_bar_shows_each_part_and_the_total_on_top() -> None:
    svg = stacked_bar_chart(
        "Today's plan", ["Rita", "João"], [Series("done", [3, 0]), Series("open", [2, 4])]
    )
    assert "Rita — done: 3" in svg
    assert "João — open: 4" in svg
    assert ">5</text>" in svg  # Rita's total
    assert "done: Rita 3, João 0. open: Rita 2, João 4." in svg


def test_a_line_chart_handles_negative_nps_and_weeks_without_answers() -> None:
    svg = line_chart("NPS", ["w1", "w2", "w3"], [Series("NPS", [-20, None, 40])])
    root = parse(svg)
    assert len(root.findall(".//{http://www.w3.org/2000/svg}circle")) == 2
    assert "NPS: -20" in svg


def test_an_empty_chart_says_there_is_no_data_yet() -> None:
    assert "No data yet." in bar_chart("Nothing", [], [])


def test_series_that_do_not_match_the_labels_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="2 values for 3 labels"):
        bar_chart("x", ["a", "b", "c"], [1, 2])


@given(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.integers(min_value=0, max_value=10**6),
)
def test_axis_ticks_are_round_evenly_spaced_and_cover_the_data(low: int, span: int) -> None:
    high = low + span
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low
    assert ticks[-1] >= high
    steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    step = steps.pop()
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 6) in (1, 2, 5, 10)
    assert len(ticks) <= 12


@given(st.integers(min_value=0, max_value=10**6))
def test_axes_of_counts_never_show_fractions(high: int) -> None:
    assert all(float(t).is_integer() for t in nice_ticks(0, high, whole=True))


@pytest.mark.parametrize("people", [3, 7, 12, 20])
def test_labels_of_neighbouring_bars_never_overlap_however_many_people(people: int) -> None:
    names = [f"Alexandra Fonseca-{n}" for n in range(people)]
    svg = stacked_bar_chart(
        "Today's plan per person",
        names,
        [Series("done", [1] * people), Series("open", [2] * people)],
    )
    ns = "{http://www.w3.org/2000/svg}"
    labels = [t for t in parse(svg).iter(f"{ns}text") if t.find(f"{ns}title") is not None]
    assert [t.find(f"{ns}title").text for t in labels] == names  # type: ignore[union-attr]
    xs = [float(t.get("x", 0)) for t in labels]
    gap = xs[1] - xs[0] if people > 1 else 1000.0
    for text in labels:
        shown = "".join(text.itertext())[len(text.find(f"{ns}title").text or "") :]  # type: ignore[union-attr]
        assert len(shown) * 8.5 <= max(gap, 3 * 8.5), shown
