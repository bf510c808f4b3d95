"""A week without answers is a gap in the line, and a line without numbers says so in words.

The NPS chart promised "weeks without survey answers are left as gaps", yet drew one line
straight through them, inventing a trend for the missing weeks; and a trend with no rated
calls at all was read out as "happy %: . unhappy %: .".
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from regulars.web.charts import Series, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def polylines(svg: str) -> list[list[str]]:
    root = ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input
    return [str(p.get("points")).split() for p in root.iter(f"{SVG}polyline")]


def test_the_line_stops_at_a_week_without_answers_and_starts_again_after_it() -> None:
    weeks = ["w1", "w2", "w3", "w4", "w5"]
    lines = polylines(line_chart("NPS", weeks, [Series("NPS", [10, 20, None, 30, 40])]))
    assert [len(points) for points in lines] == [2, 2]


def test_a_lone_week_between_gaps_is_a_dot_not_part_of_a_line() -> None:
    svg = line_chart("NPS", ["w1", "w2", "w3"], [Series("NPS", [10, None, 30])])
    assert polylines(svg) == []
    assert svg.count("<circle") == 2


def test_a_series_without_any_numbers_says_so_in_words() -> None:
    svg = line_chart(
        "Rated calls by week",
        ["w1", "w2"],
        [Series("happy %", [None, None]), Series("unhappy %", [None, None])],
    )
    desc = ET.fromstring(svg).find(f"{SVG}desc")  # noqa: S314
    assert desc is not None
    assert desc.text == "happy %: no data. unhappy %: no data."
