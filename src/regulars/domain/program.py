"""A loyalty program as a readable YAML file: what it rewards, its tiers, rewards and limits.

The file is the program: the console edits the same model, the simulator replays history
under it, and ``regulars program check`` explains it in plain words. A mistake in the file is
reported with the line it is on and the field, because the person writing it is a program
manager with a text editor, not a developer reading a stack trace.

Money is integer minor units; percentages are integers (``50`` is +50 %); no floats anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from regulars.domain.business import ZoneName
from regulars.domain.customers import Role
from regulars.domain.errors import FieldProblem, InvalidInput, problems_from_pydantic
from regulars.domain.money import money_text

Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,59}$")]
Category = Annotated[str, Field(min_length=1, max_length=60)]
Points = Annotated[int, Field(ge=0, le=10_000_000)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class AppliesTo(_Model):
    """Where purchases earn: location codes and/or brands; both empty means everywhere."""

    locations: list[Annotated[str, Field(pattern=r"^[A-Z0-9-]{2,40}$")]] = []
    brands: list[Annotated[str, Field(min_length=1, max_length=120)]] = []


class Partner(_Model):
    """Purchases reported by a partner (the event's ``source``) earn at the partner's rate."""

    source: Annotated[str, Field(min_length=1, max_length=60)]
    name: Annotated[str, Field(min_length=1, max_length=120)]
    points_per_unit: Points


class DoublePointsDay(_Model):
    """The member picks one day per period; purchases on that local day earn ``percent``."""

    period: Literal["week", "month", "quarter"] = "month"
    percent: Annotated[int, Field(ge=100, le=1000)] = 200


class Earning(_Model):
    """How purchases turn into points. See ``domain.earning`` for the exact arithmetic."""

    currency_unit: Annotated[int, Field(gt=0, le=1_000_000)] = 100
    points_per_unit: Points = 1
    tax_rate_percent: Annotated[int, Field(ge=0, le=100)] = 0
    excluded_categories: list[Category] = ["fees"]
    reward_categories: list[Category] = ["reward", "discount"]
    category_multipliers_percent: dict[Category, Annotated[int, Field(ge=0, le=10_000)]] = {}
    double_points_day: DoublePointsDay | None = None
    partners: list[Partner] = []
    purchase_bonuses: dict[Annotated[int, Field(ge=2, le=1000)], Points] = {}
    welcome_bonus: Points = 0
    cap_per_day: Annotated[int, Field(gt=0)] | None = None
    cap_per_month: Annotated[int, Field(gt=0)] | None = None
    pending_days: Annotated[int, Field(ge=0, le=365)] = 0
    min_net: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _categories_not_both(self) -> Earning:
        both = set(self.excluded_categories) & set(self.category_multipliers_percent)
        if both:
            raise ValueError(
                f"category {sorted(both)[0]!r} is both excluded and multiplied; pick one"
            )
        return self


class Tier(_Model):
    code: Code
    name: Annotated[str, Field(min_length=1, max_length=60)]
    threshold: Annotated[int, Field(ge=0)]
    accrual_bonus_percent: Annotated[int, Field(ge=0, le=1000)] = 0
    benefits: list[Annotated[str, Field(min_length=1, max_length=200)]] = []


class Tiers(_Model):
    """Tiers qualify on spend (minor units) or points earned over a window, never the balance."""

    qualify_on: Literal["spend", "points"] = "spend"
    window: Literal["rolling", "calendar_year"] = "rolling"
    window_months: Annotated[int, Field(ge=1, le=60)] = 12
    soft_landing: bool = True
    grace_percent: Annotated[int, Field(ge=0, le=50)] = 0
    grace_once_per_reviews: Annotated[int, Field(ge=1, le=100)] = 4
    close_to_next_percent: Annotated[int, Field(ge=50, le=99)] = 80
    levels: Annotated[list[Tier], Field(min_length=1, max_length=12)]

    @model_validator(mode="after")
    def _ladder(self) -> Tiers:
        if self.levels[0].threshold != 0:
            raise ValueError("the first tier is where everyone starts: its threshold must be 0")
        codes: set[str] = set()
        for index, tier in enumerate(self.levels):
            if tier.code in codes:
                raise ValueError(f"levels.{index}.code: tier {tier.code!r} appears twice")
            codes.add(tier.code)
            if index and tier.threshold <= self.levels[index - 1].threshold:
                raise ValueError(
                    f"levels.{index}.threshold: tiers overlap: {tier.threshold} is not above "
                    f"{self.levels[index - 1].code!r} at {self.levels[index - 1].threshold}"
                )
        return self


class Expiry(_Model):
    """Points expire by earn date (each lot after ``months``) or after ``months`` of inactivity."""

    mode: Literal["earn_date", "inactivity", "never"] = "earn_date"
    months: Annotated[int, Field(ge=1, le=120)] = 12
    warn_days: Annotated[int, Field(ge=1, le=365)] = 30


class Reward(_Model):
    code: Code
    name: Annotated[str, Field(min_length=1, max_length=120)]
    points: Annotated[int, Field(gt=0, le=10_000_000)]
    value: Annotated[int, Field(ge=0, le=10**9)] = Field(description="Money value, minor units.")
    min_tier: Code | None = None
    stock: Annotated[int, Field(ge=0)] | None = None
    per_member_limit: Annotated[int, Field(ge=1)] | None = None
    description: Annotated[str, Field(max_length=500)] = ""


class GoodwillLimits(_Model):
    """Points each role may grant at once without asking a manager."""

    limits: dict[Role, Points] = {}


class Program(_Model):
    code: Code
    name: Annotated[str, Field(min_length=1, max_length=120)]
    description: Annotated[str, Field(max_length=2000)] = ""
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    timezone: ZoneName = "UTC"
    enrolment: Literal["auto", "opt_in"] = "auto"
    active_days: Annotated[int, Field(ge=1, le=3650)] = 90
    value_of_100_points: Annotated[int, Field(ge=0, le=10**7)] = Field(
        default=100, description="What 100 points are worth to the member, in minor units."
    )
    applies_to: AppliesTo = AppliesTo()
    #: What one unit of another currency is worth in the program's, for the locations that
    #: sell in it (``USD: "0.92"``): a purchase in a currency not listed earns nothing here.
    exchange_rates: dict[
        Annotated[str, Field(pattern=r"^[A-Z]{3}$")],
        Annotated[Decimal, Field(gt=0, le=1_000_000, max_digits=16, decimal_places=8)],
    ] = {}
    earning: Earning = Earning()
    tiers: Tiers = Tiers(levels=[Tier(code="member", name="Member", threshold=0)])
    expiry: Expiry = Expiry()
    rewards: list[Reward] = []
    goodwill: GoodwillLimits = GoodwillLimits()

    @model_validator(mode="after")
    def _references(self) -> Program:
        tiers = {t.code for t in self.tiers.levels}
        seen: set[str] = set()
        for index, reward in enumerate(self.rewards):
            if reward.code in seen:
                raise ValueError(f"rewards.{index}.code: reward {reward.code!r} appears twice")
            seen.add(reward.code)
            if reward.min_tier is not None and reward.min_tier not in tiers:
                raise ValueError(
                    f"rewards.{index}.min_tier: no tier {reward.min_tier!r} in this program"
                )
        sources = [p.source for p in self.earning.partners]
        if len(set(sources)) != len(sources):
            raise ValueError("earning.partners: a partner source appears twice")
        if self.currency in self.exchange_rates:
            raise ValueError(
                f"exchange_rates.{self.currency}: the program's own currency needs no rate"
            )
        return self

    # -- conveniences the services and the simulator share -----------------------------

    def tier_index(self, code: str | None) -> int:
        """Position of a tier in the ladder; an unknown (retired) tier counts as the first."""
        for index, tier in enumerate(self.tiers.levels):
            if tier.code == code:
                return index
        return 0

    def reward(self, code: str) -> Reward | None:
        return next((r for r in self.rewards if r.code == code), None)

    def money_of(self, points: int) -> int:
        """The money value of points, minor units, rounded down."""
        return points * self.value_of_100_points // 100


@dataclass(frozen=True)
class ProgramProblem(FieldProblem):
    """A problem in a program file, with the line it is on (1-based) when known."""

    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.field}: {self.message}" if self.field else f"{where}{self.message}"


def load_program(text: str, *, in_force: bool = False) -> Program:
    """Parse and validate a program file; InvalidInput lists each problem with its line.

    ``in_force`` reads the text of a program already loaded as it was read then: a key
    written twice is refused when a file is checked or loaded, but a program put in force
    before that check keeps working (YAML's last value wins), so that ingest never stops.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(error, "problem", None) or str(error)
        raise InvalidInput([ProgramProblem("", f"not valid YAML: {reason}", line)]) from None
    if not isinstance(data, dict):
        raise InvalidInput([ProgramProblem("", "a program file is a mapping of keys", 1)])
    twice = [] if in_force else _keys_written_twice(root, "")
    if twice:
        raise InvalidInput(list(twice))
    try:
        return Program.model_validate(data)
    except ValidationError as error:
        problems: list[FieldProblem] = []
        for problem in problems_from_pydantic(error):
            field, message = _split_nested_path(problem)
            if message == "Extra inputs are not permitted":
                message = "unknown key; check its spelling against docs/programs.md"
            path = [int(p) if p.isdigit() else p for p in field.split(".")] if field else []
            problems.append(ProgramProblem(field, message, _line_of(root, path)))
        raise InvalidInput(problems) from None


def _keys_written_twice(node: Any, path: str, seen: set[int] | None = None) -> list[ProgramProblem]:
    """Keys given twice in one mapping: YAML keeps the last silently, and a manager who wrote
    ``welcome_bonus`` twice would launch whichever came second without knowing. Each node
    is looked at once (an alias repeats a node, and may even contain itself)."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return []
    seen.add(id(node))
    problems: list[ProgramProblem] = []
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            field = f"{path}.{name}" if path else name
            line = key.start_mark.line + 1
            if name in first:
                problems.append(
                    ProgramProblem(
                        field, f"written twice (first on line {first[name]}); keep one", line
                    )
                )
            else:
                first[name] = line
            problems.extend(_keys_written_twice(value, field, seen))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            where = f"{path}.{index}" if path else str(index)
            problems.extend(_keys_written_twice(item, where, seen))
    return problems


def _split_nested_path(problem: FieldProblem) -> tuple[str, str]:
    """Model validators name a deeper field as ``levels.2.threshold: …``; join it to the path."""
    head, sep, rest = problem.message.partition(": ")
    if sep and " " not in head and "." in head:
        field = f"{problem.field}.{head}" if problem.field else head
        return field, rest
    return problem.field, problem.message


def _line_of(node: Any, path: list[Any]) -> int | None:
    """The line of the deepest YAML node the path reaches (a key's line for unknown keys)."""
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    for step in path:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == str(step):
                    line = key.start_mark.line + 1
                    node = value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                return line
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _where_it_earns(applies_to: AppliesTo) -> str:
    """Where purchases earn, as words: a purchase earns at a listed location *or* at any
    location of a listed brand (``services.loyalty._applies``), so the two are joined by
    "and", never run together as one list."""
    places = [f"at {', '.join(applies_to.locations)}"] if applies_to.locations else []
    places += [f"at every location of the brand {brand}" for brand in applies_to.brands]
    return " and ".join(places) or "at every location"


def describe(program: Program) -> list[str]:
    """What the program does, in sentences a member of staff could read out."""
    e = program.earning
    unit = (
        money_text(e.currency_unit, program.currency)
        if e.currency_unit != 100
        else (f"1 {program.currency}")
    )
    where = _where_it_earns(program.applies_to)
    lines = [
        f"{program.name} ({program.code}): "
        f"{'everyone is enrolled on their first purchase' if program.enrolment == 'auto' else 'members opt in'}"  # noqa: E501 - one sentence
        f"; earns {where}.",
        f"Earn {e.points_per_unit} point(s) per {unit} actually paid (after discounts"
        + (f", before {e.tax_rate_percent} % tax" if e.tax_rate_percent else "")
        + "), rounded down per purchase.",
        f"100 points are worth {money_text(program.money_of(100), program.currency)}.",
    ]
    for currency, rate in sorted(program.exchange_rates.items()):
        lines.append(
            f"Purchases in {currency} count at {rate.normalize():f} {program.currency} per "
            f"{currency}."
        )
    others = (
        "any other currency"
        if program.exchange_rates
        else f"a currency other than {program.currency}"
    )
    lines.append(f"Purchases in {others} earn nothing and do not count towards tiers.")
    for partner in e.partners:
        lines.append(
            f"Partner {partner.name} (source {partner.source}): "
            f"{partner.points_per_unit} point(s) per {unit}."
        )
    for nth, points in sorted(e.purchase_bonuses.items()):
        lines.append(f"Purchase number {nth}: +{points} bonus points.")
    if e.welcome_bonus:
        lines.append(f"Welcome bonus: {e.welcome_bonus} points on the first purchase.")
    if e.cap_per_day:
        lines.append(f"At most {e.cap_per_day} points a day.")
    if e.cap_per_month:
        lines.append(f"At most {e.cap_per_month} points a month.")
    if e.pending_days:
        lines.append(f"Points are pending for {e.pending_days} days (the return window).")
    t = program.tiers
    window = (
        "the calendar year" if t.window == "calendar_year" else f"the last {t.window_months} months"
    )
    for tier in t.levels:
        need = (
            f"{money_text(tier.threshold, program.currency)} spent"
            if t.qualify_on == "spend"
            else f"{tier.threshold} points earned"
        )
        bonus = f", +{tier.accrual_bonus_percent} % points" if tier.accrual_bonus_percent else ""
        perks = f"; {', '.join(tier.benefits)}" if tier.benefits else ""
        lines.append(f"Tier {tier.name}: {need} over {window}{bonus}{perks}.")
    if len(t.levels) > 1:
        landing = "drops at most one tier per review" if t.soft_landing else "may drop several"
        grace = (
            f"; keeps the tier when within {t.grace_percent} % of it, at most once every "
            f"{t.grace_once_per_reviews} reviews"
            if t.grace_percent
            else ""
        )
        lines.append(f"A member who falls short {landing}{grace}.")
    x = program.expiry
    if x.mode == "earn_date":
        lines.append(f"Points expire {x.months} months after they were earned.")
    elif x.mode == "inactivity":
        lines.append(f"Points expire after {x.months} months without earning or redeeming.")
    else:
        lines.append("Points never expire.")
    for reward in program.rewards:
        only = f" (tier {reward.min_tier} and up)" if reward.min_tier else ""
        lines.append(
            f"Reward {reward.name}: {reward.points} points, worth "
            f"{money_text(reward.value, program.currency)}{only}."
        )
    for role, limit in program.goodwill.limits.items():
        lines.append(
            f"{role.value.capitalize()} may grant up to {limit} goodwill points "
            "per customer a day; more goes to a manager."
        )
    return lines
