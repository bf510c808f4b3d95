"""Guards: the exceptions that stop automation from contradicting what really happened.

Each guard is one small rule over what we know about the customer right now (a visit today,
an open complaint, a withdrawn consent) and returns ``None`` (no objection) or a verdict
with its reason in words a manager reads in the plan. The same guards run when the day is
planned at 06:00 and again just before a message leaves at 10:00, so a check-in at 09:40
still stops the birthday e-mail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from regulars.domain.moments import MOMENTS, MomentKind
from regulars.domain.playbooks import ASKING_PURPOSES, AUTOMATED_TOUCHES, Purpose

Action = Literal["allow", "suppress", "defer", "counter"]

CHANNEL_WORDS = {
    "email": "e-mail",
    "sms": "SMS",
    "call": "call",
    "in_person": "counter prompt",
    "card": "handwritten card",
}


@dataclass(frozen=True)
class Proposal:
    """A touch the planner (or the outbox) is about to make."""

    moment: str
    touch: str
    purpose: Purpose = Purpose.relationship

    @property
    def automated(self) -> bool:
        return self.touch in AUTOMATED_TOUCHES

    @property
    def greeting(self) -> bool:
        return self.moment in GREETING_MOMENTS

    @property
    def label(self) -> str:
        known = self.moment in MomentKind.__members__
        return MOMENTS[MomentKind(self.moment)].label if known else self.moment.replace("_", " ")


@dataclass(frozen=True)
class Situation:
    """What we know about the customer at this instant, gathered set-based by the caller.

    ``consents`` maps a channel to granted/withdrawn; a channel never asked about is absent.
    ``visit_at`` is their latest visit on the local day; ``greeted`` the moments staff
    confirmed greeting in person that day; ``unhappy_at`` the latest detractor answer or
    unhappy call; ``touched`` the moments already contacted for on this occasion.
    """

    zone: str = "UTC"
    status: str = "active"
    has_email: bool = False
    has_phone: bool = False
    consents: Mapping[str, bool] = field(default_factory=dict)
    visit_at: datetime | None = None
    greeted: frozenset[str] = frozenset()
    open_complaint: bool = False
    unhappy_at: datetime | None = None
    quiet_start: time | None = None
    quiet_end: time | None = None
    touched: frozenset[str] = frozenset()
    human_today: bool = False


@dataclass(frozen=True)
class Verdict:
    """What to do with a proposal: allow it, suppress it, defer it, or move it to the counter."""

    action: Action
    reason: str = ""
    until: datetime | None = None
    rule: str = ""

    @property
    def about_the_channel(self) -> bool:
        """Only this way of reaching them is closed (no address, no consent), not the moment."""
        return self.rule in ("consent", "human_planned_today")

    @property
    def allowed(self) -> bool:
        return self.action == "allow"


GREETING_MOMENTS = frozenset(kind.value for kind, info in MOMENTS.items() if info.greeting)

Guard = Callable[[Proposal, Situation, datetime, int], "Verdict | None"]
ALLOW = Verdict("allow")


def local_clock(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M")


def contactable(proposal: Proposal, situation: Situation, now: datetime, _: int) -> Verdict | None:
    """Nobody contacts a customer who asked not to be, or who has died."""
    if situation.status == "deceased":
        return Verdict("suppress", "the customer has died; no contact of any kind")
    if situation.status == "do_not_contact" and proposal.touch != "in_person":
        return Verdict("suppress", "the customer asked not to be contacted")
    if situation.status in ("merged", "erased"):
        return Verdict("suppress", f"the profile is {situation.status}")
    return None


def visit_today(proposal: Proposal, situation: Situation, now: datetime, _: int) -> Verdict | None:
    """They were in the shop today: the greeting belongs at the counter, not in an inbox.

    An automated greeting after a visit where nobody said a word is exactly the seed-000
    failure; it is sent only when staff confirmed they greeted in person.
    """
    if not (proposal.automated and proposal.greeting) or situation.visit_at is None:
        return None
    at = local_clock(situation.visit_at, situation.zone)
    if proposal.moment in situation.greeted:
        return None
    word = CHANNEL_WORDS[proposal.touch]
    return Verdict(
        "counter",
        f"in-store visit at {at} today → greeting moved to the counter; {word} suppressed",
    )


def open_complaint(
    proposal: Proposal, situation: Situation, now: datetime, _: int
) -> Verdict | None:
    """While a complaint is open we put it right first: no promotion, survey or ask."""
    if situation.open_complaint and proposal.purpose in ASKING_PURPOSES:
        return Verdict(
            "suppress", f"open complaint → no {proposal.purpose.value} until it is resolved"
        )
    return None


def recently_unhappy(
    proposal: Proposal, situation: Situation, now: datetime, unhappy_days: int
) -> Verdict | None:
    """After a detractor answer or an unhappy call, no asks and no promotions for a while."""
    if situation.unhappy_at is None or proposal.purpose not in ASKING_PURPOSES:
        return None
    if now - situation.unhappy_at > timedelta(days=unhappy_days):
        return None
    day = situation.unhappy_at.astimezone(ZoneInfo(situation.zone)).date().isoformat()
    return Verdict(
        "suppress",
        f"unhappy on {day} (within {unhappy_days} days) → no {proposal.purpose.value}",
    )


def consent(proposal: Proposal, situation: Situation, now: datetime, _: int) -> Verdict | None:
    """Automated messages need a granted consent and an address; calls and cards need no "no"."""
    channel = {"call": "phone", "card": "post"}.get(proposal.touch, proposal.touch)
    given = situation.consents.get(channel)
    if proposal.touch == "email":
        if not situation.has_email:
            return Verdict("suppress", "no e-mail address")
        if given is not True:
            return Verdict("suppress", "no consent for e-mail")
    if proposal.touch == "sms":
        if not situation.has_phone:
            return Verdict("suppress", "no mobile number")
        if given is not True:
            return Verdict("suppress", "no consent for SMS")
    if proposal.touch == "call":
        if not situation.has_phone:
            return Verdict("suppress", "no phone number to call")
        if given is False:
            return Verdict("suppress", "the customer withdrew consent for calls")
    if proposal.touch == "card" and given is False:
        return Verdict("suppress", "the customer withdrew consent for post")
    return None


def already_touched(
    proposal: Proposal, situation: Situation, now: datetime, _: int
) -> Verdict | None:
    if proposal.moment in situation.touched:
        return Verdict("suppress", f"already touched for this {proposal.label}")
    return None


def human_planned_today(
    proposal: Proposal, situation: Situation, now: datetime, _: int
) -> Verdict | None:
    """One person at a time: a second call the same day would feel like a campaign."""
    if proposal.touch == "call" and situation.human_today:
        return Verdict("suppress", "a human touch is already planned for this customer today")
    return None


def quiet_hours(proposal: Proposal, situation: Situation, now: datetime, _: int) -> Verdict | None:
    """Inside the customer's quiet hours a message waits until they end; it is never dropped."""
    if not proposal.automated or situation.quiet_start is None or situation.quiet_end is None:
        return None
    zone = ZoneInfo(situation.zone)
    local = now.astimezone(zone)
    start, end = situation.quiet_start, situation.quiet_end
    wall = local.time().replace(tzinfo=None)
    inside = start <= wall < end if start < end else (wall >= start or wall < end)
    if not inside:
        return None
    until_day = local.date() if wall < end else local.date() + timedelta(days=1)
    until = datetime.combine(until_day, end, tzinfo=zone)
    return Verdict(
        "defer",
        f"quiet hours {start:%H:%M}–{end:%H:%M} in {situation.zone} → waits until {end:%H:%M}",
        until,
    )


#: In order: the first objection wins (so the reason names the most fundamental one).
GUARDS: tuple[Guard, ...] = (
    contactable,
    already_touched,
    visit_today,
    open_complaint,
    recently_unhappy,
    consent,
    human_planned_today,
    quiet_hours,
)


def check(
    proposal: Proposal, situation: Situation, now: datetime, *, unhappy_days: int = 30
) -> Verdict:
    """Run every guard; the first objection is the verdict, else the touch may go ahead."""
    for guard in GUARDS:
        verdict = guard(proposal, situation, now, unhappy_days)
        if verdict is not None:
            return Verdict(verdict.action, verdict.reason, verdict.until, guard.__name__)
    return ALLOW
