"""The counter: scan a card (or find someone by name or phone), see what to say, say it.

A USB scanner types the card number and presses Enter, which submits the scan form; a QR
code on the member card holds the same number. The answer shows the prompts large, one tap
marks "greeted", and a personal note is one field and one tap. An unknown card offers a
short enrolment form instead of an error.

Every action is a POST answered with the counter view itself (no redirect): the view comes
from the check-in service, and repeating a check-in with the same request id records
nothing new, so a reload or a double tap never counts a second visit.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse

from regulars.bootstrap import Runtime
from regulars.domain.access import Actor
from regulars.domain.errors import FieldProblem, InvalidInput, NotFound, RegularsError
from regulars.services import accounts, checkin, idempotency, notes, queries
from regulars.services import customers as customer_service
from regulars.services.locations import LocationSummary, list_locations
from regulars.web.console import loyalty_view
from regulars.web.console.rendering import page
from regulars.web.deps import ConsoleSession, RuntimeDep, verify_csrf

router = APIRouter()
Csrf = [Depends(verify_csrf)]


def _key() -> str:
    return secrets.token_urlsafe(12)


def _where(places: list[LocationSummary], wanted: str) -> str:
    """The location this counter is at: the one chosen, else the person's first."""
    codes = [p.code for p in places]
    if wanted in codes:
        return wanted
    return codes[0] if codes else wanted


def _render(
    request: Request,
    runtime: Runtime,
    session: accounts.StaffSession,
    *,
    location: str = "",
    visit: dict[str, Any] | None = None,
    flash: str | None = None,
    problems: list[FieldProblem] | None = None,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    places = list_locations(runtime.uow(readonly=True), session.actor)
    context: dict[str, Any] = {
        "my_locations": places,
        "location": _where(places, location),
        "scan_key": _key(),
        "visit": _counter(_with_tier(runtime, session, visit)) if visit else None,
        "problems": problems or [],
        "q": "",
        "results": [],
        "card": "",
        "not_found": False,
        "typed": {},
        "consented": [],
        **extra,
    }
    return page(
        request,
        session,
        "console/checkin.html",
        context,
        active="checkin",
        status_code=status_code,
        done=flash,
    )


#: Prompts a "Greeted" tap answers; the others are "Done" once mentioned.
BIRTHDAYS = frozenset({"birthday", "household_birthday"})


def _counter(view: dict[str, Any]) -> dict[str, Any]:
    """Pair each prompt with the moment a tap closes: birthdays are "greeted", what the
    planner left for this visit (an anniversary, a first purchase) is "done"; either way
    the prompt stops coming back at every visit and the automated touch stands down."""
    texts: list[str] = list(view.get("prompts") or [])
    moments: list[str] = list(view.get("prompt_moments") or [])
    greeted = set(view.get("greeted_today") or [])
    prompts: list[dict[str, object]] = [
        {
            "text": text,
            "moment": moment,
            "greeted": moment in greeted,
            "tap": "Greeted" if moment in BIRTHDAYS else "Done",
        }
        for text, moment in zip(texts, moments, strict=True)
    ]
    prompts.extend(
        {"text": news, "moment": None, "greeted": False, "tap": ""}
        for news in view.get("tier_news") or []
    )
    return view | {"prompts": prompts}


def _with_tier(
    runtime: Runtime, session: accounts.StaffSession, view: dict[str, Any]
) -> dict[str, Any]:
    """Add the member's tier name, shown beside the name at the counter."""
    return view | {"tier": loyalty_view.tier_name(runtime, session.actor, int(view["customer_id"]))}


@router.get("/check-in", response_class=HTMLResponse)
def checkin_page(
    request: Request,
    runtime: RuntimeDep,
    session: ConsoleSession,
    q: Annotated[str, Query(max_length=120)] = "",
    location: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """The scan box; with ``q``, the people whose name or phone matches."""
    results: list[queries.CustomerSummary] = []
    problems: list[FieldProblem] = []
    if q.strip():
        try:
            results = queries.search_customers(
                runtime.uow(readonly=True), session.actor, q.strip(), limit=20
            )
        except InvalidInput as error:
            problems = list(error.problems)
    return _render(
        request,
        runtime,
        session,
        location=location,
        q=q.strip(),
        problems=problems,
        results=[
            {
                "id": r.id,
                "name": f"{r.first_name} {r.last_name}".strip(),
                "card_number": r.card_number,
                "city": r.city,
                "phone": r.phone,
            }
            for r in results
        ],
    )


@router.post("/check-in", response_class=HTMLResponse, dependencies=Csrf)
def check_in(
    request: Request,
    runtime: RuntimeDep,
    session: ConsoleSession,
    card: Annotated[str, Form(max_length=60)] = "",
    customer_id: Annotated[int | None, Form(gt=0)] = None,
    location: Annotated[str, Form(max_length=40)] = "",
    key: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    """Check a customer in by card (scanned or typed) or by id (picked from a search)."""
    places = list_locations(runtime.uow(readonly=True), session.actor)
    where = _where(places, location)
    card = card.strip()
    if not card and customer_id is None:
        return _render(
            request,
            runtime,
            session,
            location=where,
            status_code=422,
            problems=[FieldProblem("card", "scan or type a card number, or search by name")],
        )
    reference: dict[str, Any] = {"card_number": card} if card else {"customer_id": customer_id}
    request_id = f"console:{key or _key()}:{card or customer_id}"[:100]
    try:
        view = checkin.check_in(
            runtime.uow(),
            session.actor,
            reference | {"location": where, "request_id": request_id},
            now=runtime.now(),
            leap_rule=runtime.settings.leap_birthday_rule,
        )
    except NotFound:
        if not card:
            raise
        return _render(
            request,
            runtime,
            session,
            location=where,
            card=card.upper(),
            not_found=True,
            status_code=404,
        )
    except InvalidInput as error:
        return _render(
            request,
            runtime,
            session,
            location=where,
            card=card,
            problems=list(error.problems),
            status_code=422,
        )
    return _render(
        request, runtime, session, location=where, visit=view | {"request_id": request_id}
    )


def _again(
    runtime: Runtime,
    session: accounts.StaffSession,
    customer_id: int,
    location: str,
    request_id: str,
) -> dict[str, Any]:
    """The counter view once more: the same request id, so no second visit is recorded."""
    view = checkin.check_in(
        runtime.uow(),
        session.actor,
        {"customer_id": customer_id, "location": location, "request_id": request_id},
        now=runtime.now(),
        leap_rule=runtime.settings.leap_birthday_rule,
    )
    return view | {"request_id": request_id}


@router.post("/check-in/{checkin_id}/greeted", response_class=HTMLResponse, dependencies=Csrf)
def greeted(
    request: Request,
    runtime: RuntimeDep,
    session: ConsoleSession,
    checkin_id: int,
    customer_id: Annotated[int, Form(gt=0)],
    location: Annotated[str, Form(max_length=40)],
    request_id: Annotated[str, Form(max_length=100)],
    moment: Annotated[str, Form(max_length=60)] = "birthday",
) -> HTMLResponse:
    """One tap: the customer was greeted in person; the automated greeting stands down."""
    checkin.mark_greeted(
        runtime.uow(), session.actor, checkin_id, {"moment": moment}, now=runtime.now()
    )
    view = _again(runtime, session, customer_id, location, request_id)
    return _render(request, runtime, session, location=location, visit=view, flash="greeted")


@router.post("/check-in/{checkin_id}/note", response_class=HTMLResponse, dependencies=Csrf)
def note(
    request: Request,
    runtime: RuntimeDep,
    session: ConsoleSession,
    checkin_id: int,
    customer_id: Annotated[int, Form(gt=0)],
    location: Annotated[str, Form(max_length=40)],
    request_id: Annotated[str, Form(max_length=100)],
    text: Annotated[str, Form(max_length=5000)] = "",
    key: Annotated[str, Form(max_length=60)] = "",
) -> HTMLResponse:
    """The quick note: typed, then saved with one tap (two interactions)."""
    problems: list[FieldProblem] = []
    try:
        notes.add_note(
            runtime.uow(),
            session.actor,
            customer_id,
            text.strip(),
            now=runtime.now(),
            key=key or f"{checkin_id}:{_key()}",
            location=location,
        )
    except InvalidInput as error:
        problems = list(error.problems)
    view = _again(runtime, session, customer_id, location, request_id)
    return _render(
        request,
        runtime,
        session,
        location=location,
        visit=view,
        flash=None if problems else "note",
        problems=problems,
        status_code=422 if problems else 200,
    )


@router.post("/enrol", response_class=HTMLResponse, dependencies=Csrf)
def enrol(
    request: Request,
    runtime: RuntimeDep,
    session: ConsoleSession,
    first_name: Annotated[str, Form(max_length=120)] = "",
    last_name: Annotated[str, Form(max_length=120)] = "",
    card_number: Annotated[str, Form(max_length=40)] = "",
    phone: Annotated[str, Form(max_length=30)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    birthday: Annotated[str, Form(max_length=10)] = "",
    location: Annotated[str, Form(max_length=40)] = "",
    consent: Annotated[list[str] | None, Form(max_length=10)] = None,
    key: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    """Enrol someone new at the counter, then check them in straight away.

    Consent is asked there and then (ticked boxes), and recorded as given at the counter.
    The form's one-time ``key`` enrols once: a reload of the answer (the browser posts the
    form again) or a retried tap shows the customer already enrolled, not a twin.
    """
    places = list_locations(runtime.uow(readonly=True), session.actor)
    where = _where(places, location)
    typed = {
        "first_name": first_name,
        "last_name": last_name,
        "phone": phone,
        "email": email,
        "birthday": birthday,
    }
    data: dict[str, Any] = {
        "first_name": first_name,
        "last_name": last_name,
        "card_number": card_number or None,
        "phone": phone or None,
        "email": email or None,
        "birthday": birthday or None,
        "home_location": where or None,
        "consents": [
            {"channel": channel, "granted": True, "at": runtime.now(), "source": "counter"}
            for channel in sorted(set(consent or ()) & {"email", "sms", "phone", "post"})
        ],
    }
    form = typed | {"card_number": card_number, "location": where, "consent": sorted(consent or ())}
    try:
        customer_id = _enrol_once(runtime, session.actor, data, key, form)
    except RegularsError as error:
        problems = (
            list(error.problems)
            if isinstance(error, InvalidInput)
            else [FieldProblem(error.field or "", error.message)]
        )
        # Back as typed: the customer is still at the counter, nobody asks twice.
        return _render(
            request,
            runtime,
            session,
            location=where,
            card=card_number,
            not_found=True,
            problems=problems,
            status_code=error.http_status,
            typed=typed,
            consented=list(consent or ()),
        )
    request_id = f"console:enrol:{customer_id}"
    view = checkin.check_in(
        runtime.uow(),
        session.actor,
        {"customer_id": customer_id, "location": where, "request_id": request_id},
        now=runtime.now(),
        leap_rule=runtime.settings.leap_birthday_rule,
    )
    return _render(
        request,
        runtime,
        session,
        location=where,
        visit=view | {"request_id": request_id},
        flash="enrolled",
    )


def _enrol_once(
    runtime: Runtime, actor: Actor, data: dict[str, Any], key: str, form: dict[str, Any]
) -> int:
    """Create the customer once per form ``key``; a repeat answers with the first one's id.

    The key's digest is the form as typed (``data`` carries the moment consent was given,
    which a repeat would change); a refused enrolment frees the key for the corrected form.
    """
    if not key:
        return customer_service.create_customer(runtime.uow(), actor, data, now=runtime.now())
    scope = f"console-enrol:{actor.label}"
    digest = idempotency.request_hash(form)
    stored = idempotency.claim(runtime.uow(), key, scope, digest, now=runtime.now())
    if stored is not None:
        return int(stored.body["customer_id"])
    try:
        customer_id = customer_service.create_customer(
            runtime.uow(), actor, data, now=runtime.now()
        )
    except BaseException:
        idempotency.release(runtime.uow(), key, scope)
        raise
    answer = idempotency.StoredAnswer(200, {"customer_id": customer_id})
    idempotency.remember(runtime.uow(), key, scope, answer)
    return customer_id
