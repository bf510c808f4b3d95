"""Contact pressure: one customer, several moments, and an inbox that must stay clean.

Two moves, both per customer: moments that a person is calling about anyway ride along on
that call (birthday + points expiring → one call), and automated messages are capped per
week, overall, per channel and for promotions, most important moment first. Transactional
messages (a recall notice, a service reminder) are exempt. Every skip keeps its reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from regulars.domain.decisions import Choice
from regulars.domain.guards import CHANNEL_WORDS
from regulars.domain.moments import MOMENTS
from regulars.domain.playbooks import Caps, Purpose

PROMOTIONAL: frozenset[Purpose] = frozenset({Purpose.promotion, Purpose.upsell, Purpose.referral})


@dataclass
class SentLately:
    """Automated messages this customer already got (or has queued) in the last seven days."""

    total: int = 0
    promotional: int = 0
    per_channel: dict[str, int] = field(default_factory=dict)


def by_importance(choices: Iterable[Choice]) -> list[Choice]:
    """Most important first; ties broken by moment name so the plan is the same every run."""
    return sorted(
        choices, key=lambda c: (-c.priority, c.candidate.moment.value, c.candidate.occasion)
    )


def merge_human(choices: list[Choice]) -> None:
    """Fold a customer's other moments into their most important human touch.

    Only a call or a counter prompt carries others; the carried moments are marked merged
    and named in the brief, so the advisor mentions the expiring points on the birthday call
    (even when no e-mail could have carried them).
    """
    ordered = by_importance(choices)
    lead = next((c for c in ordered if c.active and c.touch_kind in ("call", "in_person")), None)
    if lead is None:
        return
    lead_label = MOMENTS[lead.candidate.moment].label
    word = CHANNEL_WORDS[lead.touch_kind or "call"]
    for other in ordered:
        if other is lead or other.purpose == Purpose.transactional:
            continue
        # A moment no channel could carry (no address, no consent) still rides on the call;
        # one a guard ruled out (an ask during a complaint) does not.
        unreachable = other.status == "suppressed" and not other.blocked
        if not (other.active or unreachable):
            continue
        other.merged_into = lead.candidate.key
        other.drop("merged", f"merged into the {lead_label} {word}")
        lead.merged.append(other.candidate)
    if lead.merged:
        extra = ", ".join(MOMENTS[c.moment].label for c in lead.merged)
        lead.because(f"also covers: {extra}")


def apply_caps(choices: list[Choice], caps: Caps, lately: SentLately) -> None:
    """Let automated messages through in order of importance until a cap is reached."""
    total, promo = lately.total, lately.promotional
    channel = dict(lately.per_channel)
    for choice in by_importance(choices):
        if not choice.automated or choice.touch_kind is None:
            continue
        kind = choice.touch_kind
        if choice.purpose == Purpose.transactional:
            choice.because("transactional: exempt from contact caps")
            continue
        if total >= caps.automated_per_week:
            choice.drop(
                "skipped",
                f"contact cap: already {total} automated messages this week "
                f"(limit {caps.automated_per_week})",
            )
            continue
        if choice.purpose in PROMOTIONAL and promo >= caps.promotional_per_week:
            choice.drop(
                "skipped",
                f"contact cap: already {promo} promotional message this week "
                f"(limit {caps.promotional_per_week})",
            )
            continue
        limit = caps.per_channel_per_week.get(kind)  # type: ignore[call-overload]
        if limit is not None and channel.get(kind, 0) >= limit:
            choice.drop(
                "skipped",
                f"contact cap: already {channel.get(kind, 0)} {CHANNEL_WORDS[kind]} this week "
                f"(limit {limit})",
            )
            continue
        total += 1
        channel[kind] = channel.get(kind, 0) + 1
        if choice.purpose in PROMOTIONAL:
            promo += 1
