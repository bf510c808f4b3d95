"""Conversation briefs: what the person making a call needs to make it personal.

A brief is built from plain data the service gathered (profile, household, assets, recalls,
preferences, the timeline) and says why now, who lives with the customer and what they own,
what worries them, what was said last time and how they felt, and what not to do today.
Nothing here reads a database or a clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from regulars.domain.moments import MOMENTS, Candidate, MomentKind


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class HouseholdPerson(_Out):
    name: str
    relation: str
    birthday: date | None = None


class AssetNote(_Out):
    label: str
    kind: str
    used_by: str
    model_code: str = ""
    open_recalls: list[str] = []
    service_due_on: date | None = None


class Interaction(_Out):
    at: datetime
    kind: str
    summary: str
    emotion: str | None = None


class PersonalNote(_Out):
    at: datetime
    text: str


class Brief(_Out):
    """Served as JSON to the console and the API; every list is newest or most urgent first."""

    customer_id: int
    name: str
    city: str = ""
    tier: str | None = None
    lifetime_spend: int = 0
    why_now: list[str]
    household: list[HouseholdPerson] = []
    assets: list[AssetNote] = []
    preferences: dict[str, str] = {}
    last_interactions: list[Interaction] = []
    open_complaints: list[str] = []
    notes: list[PersonalNote] = []
    talking_points: list[str] = []
    avoid_today: list[str] = []


def build_brief(
    *,
    customer_id: int,
    name: str,
    city: str,
    tier: str | None,
    lifetime_spend: int,
    moments: Sequence[Candidate],
    household: Sequence[HouseholdPerson],
    assets: Sequence[AssetNote],
    preferences: dict[str, str],
    interactions: Sequence[Interaction],
    open_complaints: Sequence[str],
    notes: Sequence[PersonalNote],
    unhappy_on: date | None,
    today: date,
    zone: str = "UTC",
) -> Brief:
    """Assemble the brief and derive the talking points and the things to avoid.

    Dates the advisor says out loud are the customer's own calendar days (``zone``): a call
    at 08:30 in Tokyo was on that Tokyo day, whatever the date was in UTC.
    """
    why = [_why(c) for c in moments]
    points: list[str] = []
    for candidate in moments:
        if candidate.moment == MomentKind.birthday:
            points.append(f"Wish {name.split(' ')[0]} a happy birthday.")
        elif candidate.moment == MomentKind.household_birthday and candidate.detail:
            points.append(f"Ask after {candidate.detail}.")
        elif candidate.moment == MomentKind.points_expiring and candidate.detail:
            points.append(f"Mention their points: {candidate.detail}.")
    for asset in assets:
        for recall in asset.open_recalls:
            points.append(
                f"{asset.used_by}'s {asset.label} has an open recall ({recall}): "
                "offer to book the fix."
            )
        if asset.service_due_on is not None and asset.service_due_on <= _plus(today, 30):
            points.append(
                f"{asset.used_by}'s {asset.label} is due for service on "
                f"{asset.service_due_on.isoformat()}."
            )
    if city:
        points.append(f"They live in {city}.")
    for label, value in preferences.items():
        points.append(f"Remember — {label}: {value}.")
    last_call = next((i for i in interactions if i.kind == "call" and i.summary), None)
    if last_call is not None:
        called_on = last_call.at.astimezone(ZoneInfo(zone)).date()
        points.append(f"Last call ({called_on.isoformat()}): {last_call.summary}")
    avoid: list[str] = []
    for complaint in open_complaints:
        avoid.append(
            f"Open complaint ({complaint}): no upsell, no referral ask, no promotion today."
        )
    if unhappy_on is not None:
        avoid.append(f"They were unhappy on {unhappy_on.isoformat()}: listen first, no asks.")
    return Brief(
        customer_id=customer_id,
        name=name,
        city=city,
        tier=tier,
        lifetime_spend=lifetime_spend,
        why_now=why,
        household=list(household),
        assets=list(assets),
        preferences=dict(preferences),
        last_interactions=list(interactions[:3]),
        open_complaints=list(open_complaints),
        notes=sorted(notes, key=lambda n: n.at, reverse=True),
        talking_points=points,
        avoid_today=avoid,
    )


def _why(candidate: Candidate) -> str:
    label = MOMENTS[candidate.moment].label
    if candidate.detail:
        return f"{label}: {candidate.detail}"
    return label


def _plus(day: date, days: int) -> date:
    return date.fromordinal(day.toordinal() + days)
