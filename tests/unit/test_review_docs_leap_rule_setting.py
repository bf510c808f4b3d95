"""REGULARS_LEAP_BIRTHDAY_RULE takes the two documented values; a typo stops the start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from regulars.config import Settings


@pytest.mark.parametrize("rule", ["feb28", "mar1"])
def test_the_documented_leap_birthday_rules_are_accepted(rule: str) -> None:
    assert Settings(leap_birthday_rule=rule).leap_birthday_rule == rule


def test_a_mistyped_leap_birthday_rule_is_refused_instead_of_meaning_feb28() -> None:
    # "march1" used to be taken silently as feb28: 29 February birthdays were greeted on the
    # wrong day with no sign that the setting had been ignored.
    with pytest.raises(ValidationError, match="leap_birthday_rule"):
        Settings(leap_birthday_rule="march1")
