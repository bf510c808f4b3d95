"""A key written twice in a program file is reported with its line, not silently overridden."""

from __future__ import annotations

from pathlib import Path

import pytest

from regulars.domain.errors import InvalidInput
from regulars.domain.program import ProgramProblem, load_program

CAFE = (
    Path(__file__).parents[2] / "src" / "regulars" / "demo" / "programs" / "cafe.yaml"
).read_text()


def _problems(text: str) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        load_program(text)
    return [str(p) for p in caught.value.problems if isinstance(p, ProgramProblem)]


def test_a_welcome_bonus_written_twice_is_refused_on_the_second_ones_line() -> None:
    text = CAFE.replace("  welcome_bonus: 25\n", "  welcome_bonus: 25\n  welcome_bonus: 250\n")
    line = text.splitlines().index("  welcome_bonus: 250") + 1

    assert _problems(text) == [
        f"line {line}: earning.welcome_bonus: written twice (first on line {line - 1}); keep one"
    ]


def test_a_tier_field_written_twice_names_the_tier() -> None:
    text = CAFE.replace(
        "      accrual_bonus_percent: 50\n",
        "      accrual_bonus_percent: 50\n      accrual_bonus_percent: 500\n",
    )

    (problem,) = _problems(text)
    assert "tiers.levels.1.accrual_bonus_percent: written twice" in problem


def test_the_demo_programs_have_no_key_twice() -> None:
    assert load_program(CAFE).earning.welcome_bonus == 25


@pytest.mark.parametrize("text", ["a: &x [*x]\n", "a: &x {b: *x}\n"])
def test_a_file_whose_alias_contains_itself_is_reported_not_a_crash(text: str) -> None:
    assert "line 1: code: Field required" in _problems(text)


def test_a_program_already_in_force_with_a_key_twice_is_still_read_as_loaded() -> None:
    text = CAFE.replace("  welcome_bonus: 25\n", "  welcome_bonus: 25\n  welcome_bonus: 30\n")

    assert load_program(text, in_force=True).earning.welcome_bonus == 30
