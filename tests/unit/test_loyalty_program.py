"""Program files: the demo programs load, and every mistake names its line and field."""

from __future__ import annotations

import pytest

from regulars.domain.errors import InvalidInput
from regulars.domain.program import ProgramProblem, describe, load_program
from tests.loyalty_support import PROGRAMS, program_text

GOLD_LINE = "      threshold: 20000           # 200.00 EUR in the last 12 months"


def _problems(text: str) -> list[ProgramProblem]:
    with pytest.raises(InvalidInput) as refused:
        load_program(text)
    return [p for p in refused.value.problems if isinstance(p, ProgramProblem)]


@pytest.mark.parametrize("name", ["cafe", "dealership"])
def test_the_demo_programs_are_valid_and_explain_themselves(name: str) -> None:
    program = load_program((PROGRAMS / f"{name}.yaml").read_text())

    sentences = describe(program)

    assert program.code == name
    assert any("rounded down per purchase" in s for s in sentences)
    assert any(s.startswith("Tier ") for s in sentences)


def test_an_unknown_key_is_reported_with_its_line() -> None:
    text = program_text("cafe", **{"  welcome_bonus: 25": "  welcome_bonus: 25\n  welcom_bonus: 5"})

    (problem,) = _problems(text)

    assert problem.field == "earning.welcom_bonus"
    assert "unknown key" in problem.message
    assert problem.line == text.splitlines().index("  welcom_bonus: 5") + 1


def test_a_negative_rate_is_reported_with_its_line() -> None:
    text = program_text("cafe", **{"  points_per_unit: 1": "  points_per_unit: -2"})

    (problem,) = _problems(text)

    assert problem.field == "earning.points_per_unit"
    assert problem.line == text.splitlines().index("  points_per_unit: -2") + 1


def test_a_misspelt_time_zone_is_reported_with_its_line() -> None:
    text = program_text("cafe", **{"timezone: Europe/Lisbon": "timezone: Europe/Lisbn"})

    (problem,) = _problems(text)

    assert problem.field == "timezone"
    assert "'Europe/Lisbn' is not an IANA time zone" in problem.message
    assert problem.line == text.splitlines().index("timezone: Europe/Lisbn") + 1


def test_overlapping_tiers_are_reported_at_the_second_threshold() -> None:
    text = program_text(
        "cafe",
        **{GOLD_LINE: "      threshold: 0"},
    )

    (problem,) = _problems(text)

    assert problem.field == "tiers.levels.1.threshold"
    assert "overlap" in problem.message
    lines = text.splitlines()
    assert lines[problem.line - 1].strip() == "threshold: 0"
    assert problem.line > lines.index("    - code: gold")


def test_a_reward_costing_nothing_is_refused() -> None:
    text = program_text("cafe", **{"    points: 25": "    points: 0"})

    (problem,) = _problems(text)

    assert problem.field == "rewards.1.points"
    assert text.splitlines()[problem.line - 1].strip() == "points: 0"


def test_a_reward_for_a_tier_that_does_not_exist_is_refused() -> None:
    text = program_text("cafe", **{"    min_tier: gold": "    min_tier: platinum"})

    (problem,) = _problems(text)

    assert problem.field == "rewards.2.min_tier"
    assert "platinum" in problem.message


def test_broken_yaml_says_where() -> None:
    (problem,) = _problems("code: x\nname: [unclosed\n")

    assert problem.line is not None
    assert "not valid YAML" in problem.message
