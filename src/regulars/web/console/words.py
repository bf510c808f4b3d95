"""Timeline events in words a person at the counter reads at a glance.

The timeline stores typed payloads; this turns each into one short line ("2 items, 7.40 EUR,
discounted", "called, reached — happy"). Unknown or future event types still get a line,
built from their payload, so a new type never breaks the page.
"""

from __future__ import annotations

from typing import Any

from regulars.web.console.rendering import money


def describe(kind: str, payload: dict[str, Any], currency: str = "EUR") -> str:
    """One line about an event; all text stays plain (the template escapes it)."""
    describer = _DESCRIBERS.get(kind)
    if describer is not None:
        return describer(payload, currency)
    parts = [f"{k}: {v}" for k, v in payload.items() if isinstance(v, str | int) and v != ""]
    return ", ".join(parts[:4])


def _purchase(p: dict[str, Any], currency: str) -> str:
    lines = p.get("lines") or []
    items = sum(int(line.get("quantity", 1)) for line in lines)
    total = sum(
        int(line.get("quantity", 1)) * int(line.get("unit_price", 0)) - int(line.get("discount", 0))
        for line in lines
    )
    names = ", ".join(str(line.get("description") or line.get("sku")) for line in lines[:3])
    discounted = any(line.get("discount") or line.get("coupon_code") for line in lines)
    paid = money(total, p.get("currency") or currency)
    text = f"{items} item{'s' if items != 1 else ''} ({names}), {paid}"
    channel = p.get("channel")
    if channel and channel != "in_store":
        text += f", {str(channel).replace('_', ' ')}"
    return text + (", discounted" if discounted else "")


def _return(p: dict[str, Any], currency: str) -> str:
    lines = p.get("lines") or []
    items = sum(int(line.get("quantity", 1)) for line in lines)
    text = f"brought back {items} item{'s' if items != 1 else ''}"
    if p.get("refund") is not None:
        text += f", refunded {money(int(p['refund']), currency)}"
    return text + (f" — {p['reason']}" if p.get("reason") else "")


def _visit(p: dict[str, Any], _: str) -> str:
    return str(p.get("kind", "check_in")).replace("_", " ")


def _greeted(p: dict[str, Any], _: str) -> str:
    return f"greeted in person ({str(p.get('moment', 'birthday')).replace('_', ' ')})"


def _call(p: dict[str, Any], _: str) -> str:
    text = f"{p.get('direction', 'outbound')}, {str(p.get('outcome', 'reached')).replace('_', ' ')}"
    return text + (f" — {p['notes']}" if p.get("notes") else "")


def _message(p: dict[str, Any], _: str) -> str:
    text = f"{p.get('channel', '')} {p.get('status', 'sent')}"
    if p.get("subject"):
        text += f": {p['subject']}"
    elif p.get("moment"):
        text += f" ({str(p['moment']).replace('_', ' ')})"
    return text


def _survey(p: dict[str, Any], _: str) -> str:
    text = f"{str(p.get('kind', 'nps')).upper()} {p.get('score')}"
    return text + (f" — “{p['comment']}”" if p.get("comment") else "")


def _ticket(p: dict[str, Any], _: str) -> str:
    text = f"{p.get('category', 'ticket')} {p.get('status', 'opened')}"
    return text + (f": {p['subject']}" if p.get("subject") else "")


def _note(p: dict[str, Any], _: str) -> str:
    return str(p.get("text", ""))


def _goodwill(p: dict[str, Any], currency: str) -> str:
    parts = []
    if p.get("points"):
        parts.append(f"{int(p['points']):,} points")
    if p.get("credit"):
        parts.append(money(int(p["credit"]), currency))
    return " and ".join(parts or ["a gesture"]) + (f" — {p['reason']}" if p.get("reason") else "")


def _referral(p: dict[str, Any], _: str) -> str:
    who = p.get("friend_name") or "a friend"
    return f"referred {who} (code {p.get('code', '')})"


def _consent(p: dict[str, Any], _: str) -> str:
    verb = "gave" if p.get("granted") else "withdrew"
    return f"{verb} consent for {p.get('channel', '')}" + (f" ({p['how']})" if p.get("how") else "")


def _tier(p: dict[str, Any], _: str) -> str:
    change = str(p.get("change", ""))
    if change in ("up", "down"):
        text = f"moved {change} from {p.get('tier_from') or '—'} to {p.get('tier_to') or '—'}"
    else:
        text = change.replace("_", " ")
    return text + (f": {p['detail']}" if p.get("detail") else "")


def _points_expiring(p: dict[str, Any], _: str) -> str:
    return f"{int(p.get('points', 0)):,} points expire on {p.get('expires_on', '')}"


def _recall(p: dict[str, Any], _: str) -> str:
    return (
        f"recall for {p.get('asset_model', '')}: {p.get('title', '')} ({p.get('status', 'open')})"
    )


def _merged(p: dict[str, Any], _: str) -> str:
    return f"merged duplicate profile #{p.get('merged_customer_id', '')}"


_DESCRIBERS = {
    "purchase": _purchase,
    "return": _return,
    "visit": _visit,
    "greeted": _greeted,
    "call": _call,
    "message": _message,
    "survey_answer": _survey,
    "ticket": _ticket,
    "note": _note,
    "goodwill": _goodwill,
    "referral": _referral,
    "consent": _consent,
    "tier": _tier,
    "points_expiring": _points_expiring,
    "recall": _recall,
    "merged": _merged,
}
