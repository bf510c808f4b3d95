"""``check_send``: the planner's guards, run again right before a message leaves.

The plan is made at 06:00; the e-mail goes at 10:00. Whatever happened in between (a
check-in at 09:40, a complaint, a withdrawn consent, quiet hours that started) is read
fresh here, so the delivery worker never sends what the guards would now refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from regulars.domain import guards
from regulars.domain.guards import Proposal, Situation
from regulars.domain.playbooks import Purpose
from regulars.store.moment_queries import Facts, gather_facts
from regulars.store.planner_tables import plan_decisions
from regulars.store.tables import events

#: How long after a detractor answer or an unhappy call asks and promotions stay off.
UNHAPPY_DAYS = 30

#: Moments whose message says "we have not seen you": any visit since makes them untrue.
WIN_BACK_MOMENTS = frozenset({"lapsing"})


@dataclass(frozen=True)
class SendVerdict:
    """``send``, ``suppress`` (with the reason) or ``defer`` until an aware instant."""

    action: Literal["send", "suppress", "defer"]
    reason: str = ""
    until: datetime | None = None


def situation_of(
    facts: Facts,
    now: datetime,
    *,
    touched: frozenset[str] = frozenset(),
    human_today: bool = False,
) -> Situation:
    """What the guards see: visits and greetings count only on the customer's local day."""
    zone = ZoneInfo(facts.zone)
    today = now.astimezone(zone).date()
    visits = [at for at in facts.visits if at.astimezone(zone).date() == today and at <= now]
    greeted = frozenset(
        moment for at, moment in facts.greeted if at.astimezone(zone).date() == today and at <= now
    )
    return Situation(
        zone=facts.zone,
        status=facts.status,
        has_email=facts.has_email,
        has_phone=facts.has_phone,
        consents=dict(facts.consents),
        visit_at=min(visits) if visits else None,
        greeted=greeted,
        open_complaint=facts.open_complaint,
        unhappy_at=facts.unhappy_at,
        quiet_start=facts.quiet_start,
        quiet_end=facts.quiet_end,
        touched=touched,
        human_today=human_today,
    )


def check_send(
    conn: Connection, *, customer_id: int, moment: str, channel: str, now: datetime
) -> SendVerdict:
    """Re-run the guards for one message about to go out on ``channel`` (email, sms, webhook)."""
    facts = gather_facts(conn, [customer_id], now=now, unhappy_days=UNHAPPY_DAYS).get(customer_id)
    if facts is None:
        return SendVerdict("suppress", "no such customer")
    d = plan_decisions.c
    purpose_text = conn.scalar(
        select(d.purpose)
        .where(d.customer_id == customer_id, d.moment == moment)
        .order_by(d.plan_date.desc(), d.id.desc())
        .limit(1)
    )
    known = isinstance(purpose_text, str) and purpose_text in Purpose.__members__
    purpose = Purpose(str(purpose_text)) if known else _purpose_of(moment)
    proposal = Proposal(moment, channel, purpose)
    came_back = _came_back(facts, moment, now)
    if came_back is not None:
        return SendVerdict("suppress", came_back)
    if channel == "webhook":
        # A webhook feeds the customer's app (or another system that talks to them): it
        # needs no address and no consent asked beforehand, but nobody who died, asked not
        # to be contacted or turned app messages off (the "Stop" link) gets one.
        objection = guards.contactable(proposal, situation_of(facts, now), now, UNHAPPY_DAYS)
        if objection is not None:
            return SendVerdict("suppress", objection.reason)
        if facts.consents.get("webhook") is False:
            return SendVerdict("suppress", "the customer withdrew consent for app messages")
        return SendVerdict("send")
    situation = situation_of(facts, now, touched=_sent_lately(conn, customer_id, moment, now))
    verdict = guards.check(proposal, situation, now, unhappy_days=UNHAPPY_DAYS)
    if verdict.action == "allow":
        return SendVerdict("send")
    if verdict.action == "defer":
        return SendVerdict("defer", verdict.reason, verdict.until)
    return SendVerdict("suppress", verdict.reason)


def _came_back(facts: Facts, moment: str, now: datetime) -> str | None:
    """Why a "we miss you" must not go: the customer was in since the plan found them lapsing.

    The planner calls a regular lapsing after weeks of silence, at 06:00; a check-in at 09:00
    (or late last night, uploaded by the till this morning) makes the 10:00 e-mail a lie. The
    visit guard only looks at greetings on the local day, so this one looks at every visit the
    facts hold (the last two days), whatever the local date.
    """
    if moment not in WIN_BACK_MOMENTS:
        return None
    visits = [at for at in facts.visits if at <= now]
    if not visits:
        return None
    local = max(visits).astimezone(ZoneInfo(facts.zone))
    return f'came back on {local:%Y-%m-%d} at {local:%H:%M} → no "we miss you"'


def _purpose_of(moment: str) -> Purpose:
    """Messages the planner did not decide (a survey invitation) carry their purpose in the name."""
    for purpose in (Purpose.survey, Purpose.referral, Purpose.promotion, Purpose.upsell):
        if purpose.value in moment:
            return purpose
    return Purpose.relationship


def _sent_lately(conn: Connection, customer_id: int, moment: str, now: datetime) -> frozenset[str]:
    """The moment, if a message about it already reached this customer in the last 20 hours."""
    e = events.c
    rows = conn.execute(
        select(e.payload).where(
            e.customer_id == customer_id,
            e.type == "message",
            e.occurred_at >= now - timedelta(hours=20),
            e.occurred_at <= now,
        )
    )
    for (payload,) in rows:
        sent = isinstance(payload, dict) and payload.get("status") == "sent"
        if sent and payload.get("moment") == moment:
            return frozenset({moment})
    return frozenset()
