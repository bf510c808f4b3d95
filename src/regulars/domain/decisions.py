"""Decisions: for one candidate moment, the touch chosen and every reason on the way.

The planner walks a rule's touches in order, asks the guards about each, and keeps the first
one that may go ahead. Each step leaves a reason behind, so the plan reads like a manager's
note: "birthday; in-store visit at 09:40 today → greeting moved to the counter; e-mail
suppressed".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from regulars.domain import guards
from regulars.domain.guards import CHANNEL_WORDS, Proposal, Situation
from regulars.domain.moments import MOMENTS, Candidate, moment_label
from regulars.domain.playbooks import Purpose, Rule, Touch

Status = Literal["planned", "deferred", "suppressed", "merged", "skipped"]


@dataclass
class Choice:
    """The working decision for one candidate; the store keeps it under ``candidate.key``."""

    candidate: Candidate
    rule: Rule | None
    touch: Touch | None = None
    touch_index: int = -1
    status: Status = "skipped"
    reasons: list[str] = field(default_factory=list)
    send_after: datetime | None = None
    due_on: date | None = None
    valid_until: date | None = None
    assignee: int | None = None
    merged_into: tuple[int, str, str] | None = None
    merged: list[Candidate] = field(default_factory=list)
    importance: int = 0
    blocked: bool = False  # a guard ruled out the moment itself, not just one channel

    @property
    def purpose(self) -> Purpose:
        return self.rule.purpose if self.rule is not None else Purpose.relationship

    @property
    def priority(self) -> int:
        return MOMENTS[self.candidate.moment].priority

    @property
    def touch_kind(self) -> str | None:
        return self.touch.touch if self.touch is not None and self.active else None

    @property
    def active(self) -> bool:
        return self.status in ("planned", "deferred")

    @property
    def human(self) -> bool:
        return self.active and self.touch is not None and self.touch.human

    @property
    def automated(self) -> bool:
        return self.active and self.touch is not None and not self.touch.human

    def because(self, reason: str) -> None:
        self.reasons.append(reason)

    def drop(self, status: Status, reason: str) -> None:
        self.status = status
        self.because(reason)

    @property
    def explanation(self) -> str:
        return "; ".join(self.reasons)


def send_time(day: date, at: time, zone: str, now: datetime) -> datetime:
    """The local wall-clock time on the plan day, as an instant; never earlier than now."""
    return max(_local(day, at, zone), now)


@lru_cache(maxsize=1024)
def _local(day: date, at: time, zone: str) -> datetime:
    # A plan asks this for every candidate; the answers are few (days × times × zones).
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone))


def choose(
    candidate: Candidate,
    rule: Rule | None,
    situation: Situation,
    *,
    day: date,
    now: datetime,
    default_send_at: time,
    unhappy_days: int,
    start: int = 0,
) -> Choice:
    """Walk the rule's touches from ``start``; keep the first the guards let through.

    A greeting moved to the counter becomes an in-person prompt valid today, whatever the
    playbook's next fallback is: the customer is, or just was, in front of us.
    """
    choice = Choice(candidate, rule)
    if start == 0:
        choice.because(moment_label(candidate.moment, candidate.detail))
    if rule is None:
        choice.drop("skipped", "no playbook rule for this moment and customer")
        return choice
    for index in range(start, len(rule.touches)):
        touch = rule.touches[index]
        proposal = Proposal(candidate.moment.value, touch.touch, rule.purpose)
        at = send_time(day, touch.send_at or default_send_at, situation.zone, now)
        verdict = guards.check(proposal, situation, at, unhappy_days=unhappy_days)
        if verdict.action == "counter":
            choice.because(verdict.reason)
            choice.touch = Touch(touch="in_person", valid_days=1)
            choice.touch_index = index
            choice.status = "planned"
            choice.due_on = day
            choice.valid_until = day
            return choice
        if verdict.action == "suppress":
            choice.because(f"{CHANNEL_WORDS[touch.touch]}: {verdict.reason}")
            choice.blocked = choice.blocked or not verdict.about_the_channel
            if verdict.reason.startswith(("the customer has died", "the profile is")):
                break
            continue
        choice.touch = touch
        choice.touch_index = index
        if verdict.action == "defer":
            choice.status = "deferred"
            choice.because(verdict.reason)
            choice.send_after = verdict.until
        else:
            choice.status = "planned"
            if touch.human:
                choice.due_on = day
            else:
                choice.send_after = at
        _describe(choice, touch, day, situation.zone)
        return choice
    choice.drop("suppressed", "no touch left in the playbook")
    return choice


def _describe(choice: Choice, touch: Touch, day: date, zone: str) -> None:
    if touch.touch == "call":
        choice.due_on = day
        choice.because(f"call within {touch.within_days} days")
    elif touch.touch == "in_person":
        choice.due_on = day
        choice.valid_until = date.fromordinal(day.toordinal() + touch.valid_days - 1)
        choice.because(f"prompt at the next check-in, valid {touch.valid_days} days")
    elif touch.touch == "card":
        choice.due_on = date.fromordinal(day.toordinal() + touch.within_days)
        choice.because("handwritten card")
    elif choice.send_after is not None and choice.status == "planned":
        local = choice.send_after.astimezone(ZoneInfo(zone))
        choice.because(f"{CHANNEL_WORDS[touch.touch]} at {local:%H:%M} local")
