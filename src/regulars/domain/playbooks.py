"""Playbooks: for each moment and kind of customer, which touch to try first and what next.

A playbook is a YAML file a manager can read: a birthday of a gold member is a call by their
advisor within two days, else a prompt at the counter, else an e-mail at 10:00. Mistakes are
caught when the file is loaded, each with its line and field, never when a message is due.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from enum import StrEnum
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from regulars.domain.errors import FieldProblem, InvalidInput, problems_from_pydantic
from regulars.domain.moments import MomentKind

TouchKind = Literal["call", "in_person", "card", "email", "sms"]
HUMAN_TOUCHES: frozenset[str] = frozenset({"call", "in_person", "card"})
AUTOMATED_TOUCHES: frozenset[str] = frozenset({"email", "sms"})


class Purpose(StrEnum):
    """Why a touch is made; guards and caps treat purposes differently.

    Transactional messages are exempt from caps; promotions, surveys, referral and upsell
    asks are what an open complaint or a recent unhappy contact forbids.
    """

    greeting = "greeting"
    relationship = "relationship"
    service = "service"
    recovery = "recovery"
    transactional = "transactional"
    promotion = "promotion"
    survey = "survey"
    referral = "referral"
    upsell = "upsell"


#: Purposes that ask something of the customer or sell to them.
ASKING_PURPOSES: frozenset[Purpose] = frozenset(
    {Purpose.promotion, Purpose.survey, Purpose.referral, Purpose.upsell}
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Touch(_Model):
    """One way of making contact, with its timing."""

    touch: TouchKind
    by: Literal["owner", "pool"] = Field(
        default="owner", description="Calls: the relationship owner first, or anyone free."
    )
    within_days: Annotated[int, Field(ge=0, le=60)] = 2
    valid_days: Annotated[int, Field(ge=1, le=90)] = 7
    template: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    send_at: time | None = None

    @model_validator(mode="after")
    def _template_for_messages(self) -> Touch:
        if self.touch in AUTOMATED_TOUCHES and self.template is None:
            raise ValueError(f"an {self.touch} touch needs a template")
        if self.touch in HUMAN_TOUCHES and self.template is not None:
            raise ValueError(f"a {self.touch} touch has no template; staff get a brief")
        return self

    @property
    def human(self) -> bool:
        return self.touch in HUMAN_TOUCHES


class Segment(_Model):
    """Which customers a rule is for; an empty segment is everyone."""

    tiers: list[Annotated[str, Field(min_length=1, max_length=60)]] | None = None
    min_lifetime_spend: Annotated[int, Field(ge=0)] | None = None
    max_lifetime_spend: Annotated[int, Field(ge=0)] | None = None

    def matches(self, tier: str | None, lifetime_spend: int) -> bool:
        if self.tiers is not None and tier not in self.tiers:
            return False
        if self.min_lifetime_spend is not None and lifetime_spend < self.min_lifetime_spend:
            return False
        return self.max_lifetime_spend is None or lifetime_spend <= self.max_lifetime_spend


class Rule(_Model):
    """For one moment (and segment): the preferred touch first, then the fallbacks in order."""

    moment: MomentKind
    segment: Segment = Segment()
    purpose: Purpose = Purpose.relationship
    touches: Annotated[list[Touch], Field(min_length=1, max_length=6)]


class Caps(_Model):
    """Contact pressure: at most this many automated messages per customer in seven days."""

    automated_per_week: Annotated[int, Field(ge=0, le=50)] = 2
    promotional_per_week: Annotated[int, Field(ge=0, le=50)] = 1
    per_channel_per_week: dict[Literal["email", "sms"], Annotated[int, Field(ge=0, le=50)]] = {
        "email": 2,
        "sms": 1,
    }


class Thresholds(_Model):
    """The numbers that decide when a moment happens for this kind of business."""

    large_purchase: Annotated[int, Field(ge=1)] = 50_000
    lapsing_factor: Annotated[float, Field(ge=1.0, le=20.0)] = 2.0
    lapsing_floor_days: Annotated[int, Field(ge=1, le=3650)] = 14
    complaint_open_days: Annotated[int, Field(ge=0, le=365)] = 3
    unhappy_days: Annotated[int, Field(ge=0, le=365)] = 30
    service_due_lead_days: Annotated[int, Field(ge=0, le=365)] = 14
    max_call_attempts: Annotated[int, Field(ge=1, le=10)] = 3


class Playbook(_Model):
    """The rules for one kind of business (a café, a dealership)."""

    location_kinds: list[str] = []
    send_at: time = time(10, 0)
    caps: Caps = Caps()
    thresholds: Thresholds = Thresholds()
    rules: list[Rule]

    def rule_for(self, moment: MomentKind, tier: str | None, lifetime_spend: int) -> Rule | None:
        """The first rule for this moment whose segment the customer is in."""
        for rule in self.rules:
            if rule.moment == moment and rule.segment.matches(tier, lifetime_spend):
                return rule
        return None


class PlaybookBook(_Model):
    """A playbook file: named playbooks; ``default`` serves any location kind not listed."""

    playbooks: Annotated[dict[Annotated[str, Field(min_length=1)], Playbook], Field(min_length=1)]

    def for_location_kind(self, kind: str | None) -> Playbook | None:
        for playbook in self.playbooks.values():
            if kind is not None and kind in playbook.location_kinds:
                return playbook
        return self.playbooks.get("default")


TemplateCheck = Callable[[str, str], list[str]]

#: libyaml's safe loader when it is installed (ten times faster), else the pure-Python one.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_playbooks(text: str, *, check_template: TemplateCheck | None = None) -> PlaybookBook:
    """Parse and validate a playbook file; InvalidInput names each problem's field and line.

    ``check_template(name, channel)`` returns what is wrong with a message template (missing,
    undefined fields); the delivery side provides it so a bad template fails here, not at 10:00.
    """
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reason = getattr(error, "problem", None) or str(error)
        raise InvalidInput([FieldProblem("", f"line {line}: not valid YAML: {reason}")]) from None
    if root is None:
        raise InvalidInput([FieldProblem("playbooks", "line 1: the file is empty")])
    lines: dict[tuple[str, ...], int] = {}
    _index_lines(root, (), lines)
    data: Any = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, C or Python
    try:
        book = PlaybookBook.model_validate(data)
    except ValidationError as error:
        problems = problems_from_pydantic(error)
        raise InvalidInput([_with_line(p, lines) for p in problems]) from None
    problems = []
    if check_template is not None:
        for name, playbook in book.playbooks.items():
            for r, rule in enumerate(playbook.rules):
                for t, touch in enumerate(rule.touches):
                    if touch.template is None:
                        continue
                    for reason in check_template(touch.template, touch.touch):
                        path = f"playbooks.{name}.rules.{r}.touches.{t}.template"
                        problems.append(_with_line(FieldProblem(path, reason), lines))
    if problems:
        raise InvalidInput(problems)
    return book


def _index_lines(node: yaml.Node, path: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> None:
    """Remember the line of every value in the document, by its dotted path."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            lines[child] = key.start_mark.line + 1
            _index_lines(value, child, lines)
            lines[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for n, item in enumerate(node.value):
            _index_lines(item, (*path, str(n)), lines)


def _with_line(problem: FieldProblem, lines: dict[tuple[str, ...], int]) -> FieldProblem:
    parts = tuple(problem.field.split(".")) if problem.field else ()
    while parts and parts not in lines:
        parts = parts[:-1]
    line = lines.get(parts, 1)
    return FieldProblem(problem.field, f"line {line}: {problem.message}")
