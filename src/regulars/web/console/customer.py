"""The customer's 360° page, quick notes, consent and contact preferences, the member card.

Everything is read and written through the services, which check that the customer belongs
to one of the signed-in person's locations; a customer elsewhere is simply "not found".
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from regulars.bootstrap import Runtime
from regulars.domain.errors import FieldProblem, InvalidInput, RegularsError
from regulars.domain.events import EVENT_TYPES, Channel
from regulars.services import accounts, notes, queries
from regulars.services import customers as customer_service
from regulars.services.locations import LocationSummary, list_locations
from regulars.web.barcodes import code128_svg, qr_svg
from regulars.web.console import loyalty_view
from regulars.web.console.rendering import page, redirect
from regulars.web.console.words import describe
from regulars.web.deps import ConsoleSession, RuntimeDep, verify_csrf

router = APIRouter()
Csrf = [Depends(verify_csrf)]

#: Channels a customer can give or withdraw consent for (webhooks are integrations, not people).
CONSENT_CHANNELS = (Channel.email, Channel.sms, Channel.phone, Channel.post)
TIMELINE_PAGE = 25
#: The fields of the contact form, shown as saved or, after a refusal, as the person typed them.
CONTACT_FIELDS = ("preferred_channel", "quiet_start", "quiet_end", "email", "phone", "card_number")


@dataclass(frozen=True)
class ChannelConsent:
    channel: str
    granted: bool | None
    at: datetime | None
    source: str


def form_key() -> str:
    """A one-time key rendered into a form so that a double tap still writes once."""
    return secrets.token_urlsafe(12)


def zone_of(places: list[LocationSummary], code: str | None) -> tuple[str, str]:
    """The time zone and currency to show a customer's history in (their home location's)."""
    for place in places:
        if place.code == code:
            return place.timezone, place.currency
    if places:
        return places[0].timezone, places[0].currency
    return "UTC", "EUR"


def customer_context(
    runtime: Runtime,
    session: accounts.StaffSession,
    customer_id: int,
    *,
    types: list[str],
    cursor: str | None,
) -> dict[str, Any]:
    actor = session.actor
    view = queries.customer_360(runtime.uow(readonly=True), actor, customer_id, notes=10)
    wanted = [t for t in types if t in EVENT_TYPES]
    history = queries.timeline(
        runtime.uow(readonly=True),
        actor,
        customer_id,
        types=wanted,
        limit=TIMELINE_PAGE,
        cursor=cursor or None,
    )
    places = list_locations(runtime.uow(readonly=True), actor)
    zone, currency = zone_of(places, view.profile.home_location)
    people = {s.id: s.name for s in accounts.list_staff(runtime.uow(readonly=True), actor)}
    profile = view.profile
    given = {c.channel: c for c in view.consents}
    channels = [
        ChannelConsent(
            ch.value,
            given[ch.value].granted if ch.value in given else None,
            given[ch.value].at if ch.value in given else None,
            given[ch.value].source if ch.value in given else "",
        )
        for ch in CONSENT_CHANNELS
    ]
    members = view.household.members if view.household else ()
    place_names = {p.code: p.name for p in places}
    c = {
        "id": profile.id,
        "name": f"{profile.first_name} {profile.last_name}".strip(),
        "card_number": profile.card_number,
        "birthday": profile.birthday,
        "email": profile.email,
        "phone": profile.phone,
        "city": profile.city,
        "status": profile.status,
        "location": place_names.get(profile.home_location or "", profile.home_location),
        "owner": people.get(profile.owner_staff_id or 0, ""),
        "created_at": profile.created_at,
        "last_visit_at": profile.last_visit_at,
        "purchase_count": profile.purchase_count,
        "lifetime_spend": profile.lifetime_spend,
        "preferred_channel": profile.preferred_channel,
        "quiet_start": profile.quiet_start.strftime("%H:%M") if profile.quiet_start else "",
        "quiet_end": profile.quiet_end.strftime("%H:%M") if profile.quiet_end else "",
    }

    def page_url(next_cursor: str | None) -> str:
        query: list[tuple[str, str]] = [("type", t) for t in wanted]
        if next_cursor:
            query.append(("cursor", next_cursor))
        suffix = "?" + urlencode(query) if query else ""
        return f"/console/customers/{profile.id}{suffix}#timeline"

    return {
        "c": c,
        "contact": {k: c[k] or "" for k in CONTACT_FIELDS},
        "zone": zone,
        "currency": currency,
        "household": members,
        "assets": [
            {
                "label": a.label,
                "kind": a.kind,
                "used_by": a.member_name or "",
                "service_due_on": a.service_due_on,
            }
            for a in view.assets
        ],
        "preferences": [(p.label, p.value) for p in view.preferences],
        "notes": [
            {
                "at": n.occurred_at,
                "text": n.payload.get("text", ""),
                "by": people.get(n.staff_id or 0, ""),
            }
            for n in view.recent_notes
        ],
        "complaints": [
            {
                "subject": t.payload.get("subject", ""),
                "category": t.payload.get("category", ""),
                "at": t.occurred_at,
            }
            for t in view.open_complaints
        ],
        "loyalty": loyalty_view.status_lines(runtime, actor, customer_id),
        "timeline": [
            {
                "type": e.type,
                "occurred_at": e.occurred_at,
                "summary": describe(e.type, e.payload, currency),
                "emotion": e.payload.get("emotion") if e.type == "call" else None,
            }
            for e in history.entries
        ],
        "event_types": sorted(EVENT_TYPES),
        "selected_types": wanted,
        "first_page_url": page_url(None) if cursor else None,
        "next_page_url": page_url(history.next_cursor) if history.next_cursor else None,
        "channels": channels,
        "note_key": form_key(),
    }


def show_customer(
    request: Request,
    runtime: Runtime,
    session: accounts.StaffSession,
    customer_id: int,
    *,
    problems: list[FieldProblem] | None = None,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    """The customer's page; after a refused form, ``typed`` keeps what the person entered."""
    context = customer_context(
        runtime,
        session,
        customer_id,
        types=request.query_params.getlist("type"),
        cursor=request.query_params.get("cursor"),
    )
    context["problems"] = problems or []
    context["contact"] |= typed or {}
    return page(request, session, "console/customer.html", context, status_code=status_code)


def problems_of(error: RegularsError) -> list[FieldProblem]:
    if isinstance(error, InvalidInput):
        return list(error.problems)
    return [FieldProblem(error.field or "", error.message)]


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(
    request: Request,
    runtime: RuntimeDep,
    session: ConsoleSession,
    customer_id: int,
    types: Annotated[list[str] | None, Query(alias="type", max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    return show_customer(request, runtime, session, customer_id)


@router.post("/customers/{customer_id}/notes", dependencies=Csrf)
def add_note(
    request: Request,
    runtime: RuntimeDep,
    session: ConsoleSession,
    customer_id: int,
    text: Annotated[str, Form(max_length=5000)] = "",
    key: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    """A quick note: type, then one tap on Save."""
    try:
        notes.add_note(
            runtime.uow(),
            session.actor,
            customer_id,
            text.strip(),
            now=runtime.now(),
            key=key or None,
        )
    except InvalidInput as error:
        return show_customer(
            request, runtime, session, customer_id, problems=problems_of(error), status_code=422
        )
    return redirect(f"/console/customers/{customer_id}", "note")


@router.post("/customers/{customer_id}/consent", dependencies=Csrf)
def change_consent(
    request: Request,
    runtime: RuntimeDep,
    session: ConsoleSession,
    customer_id: int,
    channel: Annotated[str, Form(max_length=20)],
    granted: Annotated[str, Form(max_length=5)],
) -> Response:
    data = {
        "channel": channel,
        "granted": granted == "yes",
        "at": runtime.now(),
        "source": f"console, {session.name}"[:120],
    }
    try:
        customer_service.set_consent(
            runtime.uow(), session.actor, customer_id, data, now=runtime.now()
        )
    except (InvalidInput, RegularsError) as error:
        if error.http_status == 404:
            raise
        return show_customer(
            request, runtime, session, customer_id, problems=problems_of(error), status_code=422
        )
    return redirect(f"/console/customers/{customer_id}", "consent")


@router.post("/customers/{customer_id}/contact", dependencies=Csrf)
def change_contact(
    request: Request,
    runtime: RuntimeDep,
    session: ConsoleSession,
    customer_id: int,
    preferred_channel: Annotated[str, Form(max_length=20)] = "",
    quiet_start: Annotated[str, Form(max_length=8)] = "",
    quiet_end: Annotated[str, Form(max_length=8)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    phone: Annotated[str, Form(max_length=30)] = "",
    card_number: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Save only what changed, so the audit log shows exactly what this person edited."""
    actor = session.actor
    form = (preferred_channel, quiet_start, quiet_end, email, phone, card_number)
    try:
        current = queries.get_customer(runtime.uow(readonly=True), actor, customer_id)
        wanted: dict[str, Any] = {
            "preferred_channel": preferred_channel or None,
            "email": email.strip() or None,
            "phone": phone.strip() or None,
            "card_number": card_number.strip() or None,
        }
        patch = {k: v for k, v in wanted.items() if v != getattr(current, k)}
        quiet = _quiet_hours(quiet_start, quiet_end)
        before = (current.quiet_start, current.quiet_end) if current.quiet_start else None
        after = (
            (time.fromisoformat(quiet["start"]), time.fromisoformat(quiet["end"]))
            if quiet
            else None
        )
        if before != after:
            patch["quiet_hours"] = quiet
        if patch:
            customer_service.update_customer(
                runtime.uow(), actor, customer_id, patch, now=runtime.now()
            )
    except RegularsError as error:
        if error.http_status == 404:
            raise
        typed = dict(zip(CONTACT_FIELDS, form, strict=True))
        return show_customer(
            request,
            runtime,
            session,
            customer_id,
            problems=problems_of(error),
            status_code=422,
            typed=typed,
        )
    return redirect(f"/console/customers/{customer_id}", "contact")


def _quiet_hours(start: str, end: str) -> dict[str, str] | None:
    if not start and not end:
        return None
    if not start or not end:
        field = "quiet_start" if not start else "quiet_end"
        raise InvalidInput([FieldProblem(field, "give both ends of the quiet hours, or neither")])
    try:
        return {
            "start": time.fromisoformat(start).isoformat(),
            "end": time.fromisoformat(end).isoformat(),
        }
    except ValueError:
        raise InvalidInput([FieldProblem("quiet_hours", "times look like 21:00")]) from None


@router.get("/customers/{customer_id}/card", response_class=HTMLResponse)
def member_card(
    request: Request, runtime: RuntimeDep, session: ConsoleSession, customer_id: int
) -> HTMLResponse:
    """A printable card: the card number as Code 128 and as a QR code (both say the same)."""
    profile = queries.get_customer(runtime.uow(readonly=True), session.actor, customer_id)
    places = list_locations(runtime.uow(readonly=True), session.actor)
    brand = next((p.name for p in places if p.code == profile.home_location), "")
    card = profile.card_number
    context = {
        "customer": profile,
        "brand": brand,
        "tier": loyalty_view.tier_name(runtime, session.actor, customer_id),
        "barcode": Markup(code128_svg(card)) if card else "",  # noqa: S704 - escaped inside
        "qr": Markup(qr_svg(card)) if card else "",  # noqa: S704 - segno escapes its title
    }
    return page(request, session, "console/card.html", context)


__all__ = ["router"]
