"""Playbook files: the demo's are valid; mistakes are reported with their line and field."""

from __future__ import annotations

from importlib import resources

import pytest

from regulars.domain.errors import InvalidInput
from regulars.domain.moments import MomentKind
from regulars.domain.playbooks import load_playbooks

GOOD = """\
playbooks:
  default:
    rules:
      - moment: birthday
        touches:
          - {touch: email, template: birthday_greeting}
"""


def _problems(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        load_playbooks(text, **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in caught.value.problems]


def test_the_demo_playbooks_load_and_pick_a_rule_per_kind_of_business() -> None:
    text = resources.files("regulars.demo").joinpath("playbooks.yaml").read_text()
    book = load_playbooks(text)
    dealer = book.for_location_kind("dealership")
    assert dealer is not None
    vip = dealer.rule_for(MomentKind.birthday, None, 5_000_000)
    assert vip is not None and vip.touches[0].touch == "call"
    regular = dealer.rule_for(MomentKind.birthday, None, 10_000)
    assert regular is not None and regular.touches[0].touch == "email"
    assert book.for_location_kind("optician") is book.playbooks["default"]


def test_an_unknown_moment_is_reported_on_its_line() -> None:
    problems = _problems(GOOD.replace("moment: birthday", "moment: birthdya"))
    assert len(problems) == 1
    assert problems[0].startswith("playbooks.default.rules.0.moment: line 4:")


def test_an_unknown_channel_is_reported_on_its_line() -> None:
    problems = _problems(GOOD.replace("touch: email", "touch: pigeon"))
    assert problems[0].startswith("playbooks.default.rules.0.touches.0.touch: line 6:")


def test_an_email_without_a_template_is_refused() -> None:
    problems = _problems(GOOD.replace(", template: birthday_greeting", ""))
    assert "line 6" in problems[0] and "needs a template" in problems[0]


def test_a_template_that_reads_a_missing_field_is_caught_at_load_with_its_line() -> None:
    def check(name: str, channel: str) -> list[str]:
        return [] if name == "birthday_greeting" else [f"template {name!r} uses unknown field 'x'"]

    problems = _problems(GOOD.replace("birthday_greeting", "broken"), check_template=check)
    where = "playbooks.default.rules.0.touches.0.template: line 6:"
    assert problems == [f"{where} template 'broken' uses unknown field 'x'"]


def test_broken_yaml_names_the_line_where_the_parser_gave_up() -> None:
    problems = _problems("playbooks:\n  default: [unclosed\n")
    assert len(problems) == 1
    assert problems[0].startswith("line 3: not valid YAML:")
    assert "']'" in problems[0]


def test_an_unknown_setting_is_refused_rather_than_ignored() -> None:
    problems = _problems(GOOD.replace("  default:\n", "  default:\n    send_att: '10:00'\n"))
    assert problems[0].startswith("playbooks.default.send_att: line 3:")
