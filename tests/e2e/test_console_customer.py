"""The customer's 360° page, quick notes, consent, contact preferences and the member card."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from regulars.bootstrap import Runtime
from regulars.domain.access import CLI
from regulars.services import customers as customer_service
from regulars.services import queries
from regulars.services.ingest import ingest_events
from tests.web_fixtures import ClientFor, ensure_location

EVIL = "<script>alert(1)</script>"


def enrol(runtime: Runtime, location: str, **fields: object) -> int:
    ensure_location(runtime, location)
    data = {"first_name": "Angela", "last_name": "Moreira", "home_location": location} | fields
    return customer_service.create_customer(runtime.uow(), CLI, data, now=runtime.now())


def form(client: TestClient, **fields: object) -> dict[str, object]:
    """Form fields plus the session's CSRF token, as the rendered page would send them."""
    return {"csrf_token": client.headers["X-CSRF-Token"], **fields}


def without_csrf_header(client: TestClient) -> TestClient:
    del client.headers["X-CSRF-Token"]
    return client


@pytest.fixture
def counter(console_client_for: ClientFor) -> TestClient:
    return console_client_for("staff", ["CAFE-LIS"])


def test_the_360_page_shows_profile_household_preferences_notes_and_timeline(
    runtime: Runtime, counter: TestClient
) -> None:
    cid = enrol(runtime, "CAFE-LIS", card_number="RG-0001", birthday="1980-05-01", city="Lisboa")
    now = runtime.now()
    customer_service.add_household_member(
        runtime.uow(), CLI, cid, {"name": "Rui", "relation": "spouse"}, now=now
    )
    customer_service.set_preference(
        runtime.uow(), CLI, cid, {"label": "usual order", "value": "London Fog latte"}, now=now
    )
    ingest_events(
        runtime.uow(),
        [
            {
                "type": "ticket",
                "source": "desk",
                "external_id": "t1",
                "occurred_at": now.isoformat(),
                "customer_id": cid,
                "ticket_id": "T-1",
                "subject": "Cold coffee",
            },
            {
                "type": "purchase",
                "source": "pos",
                "external_id": "p1",
                "occurred_at": now.isoformat(),
                "customer_id": cid,
                "lines": [{"sku": "latte", "unit_price": 350, "quantity": 2}],
            },
        ],
        now=now,
    )
    page = counter.get(f"/console/customers/{cid}")
    assert page.status_code == 200
    html = page.text
    for expected in ("Angela Moreira", "RG-0001", "Rui", "London Fog latte", "Cold coffee"):
        assert expected in html
    assert "2 items (latte), 7.00 EUR" in html
    assert 'data-type="purchase"' in html


def test_the_timeline_filters_by_type_and_pages_backwards(
    runtime: Runtime, counter: TestClient
) -> None:
    cid = enrol(runtime, "CAFE-LIS")
    now = runtime.now()
    visits = [
        {
            "type": "visit",
            "source": "pos",
            "external_id": f"v{n}",
            "occurred_at": now.replace(day=1 + n % 28, hour=n % 24).isoformat(),
            "customer_id": cid,
        }
        for n in range(30)
    ]
    ingest_events(runtime.uow(), visits, now=now)
    first = counter.get(f"/console/customers/{cid}", params={"type": "visit"})
    assert first.text.count('data-type="visit"') == 25
    assert "Older →" in first.text
    notes_only = counter.get(f"/console/customers/{cid}", params={"type": "note"})
    assert 'data-type="visit"' not in notes_only.text
    assert "Nothing on the timeline of that kind" in notes_only.text
    page = queries.timeline(runtime.uow(), CLI, cid, types=["visit"], limit=25)
    second = counter.get(
        f"/console/customers/{cid}", params={"type": "visit", "cursor": page.next_cursor}
    )
    assert second.text.count('data-type="visit"') == 5
    assert "← Newest" in second.text


def test_a_quick_note_lands_on_the_timeline_and_a_double_tap_writes_it_once(
    runtime: Runtime, counter: TestClient
) -> None:
    cid = enrol(runtime, "CAFE-LIS")
    data = form(counter, text="Back from Florida, loved it", key="k-123")
    first = counter.post(f"/console/customers/{cid}/notes", data=data)
    again = counter.post(f"/console/customers/{cid}/notes", data=data)
    assert first.status_code == again.status_code == 303
    page = counter.get(first.headers["location"])
    assert "Note saved" in page.text
    assert page.text.count("Back from Florida, loved it") == 2  # notes panel + timeline
    entries = queries.timeline(runtime.uow(), CLI, cid, types=["note"]).entries
    assert len(entries) == 1


def test_names_and_notes_with_markup_are_shown_as_text_never_run(
    runtime: Runtime, counter: TestClient
) -> None:
    cid = enrol(runtime, "CAFE-LIS", first_name=EVIL, card_number="RG-EVIL")
    counter.post(f"/console/customers/{cid}/notes", data=form(counter, text=EVIL))
    for path in (f"/console/customers/{cid}", f"/console/customers/{cid}/card"):
        html = counter.get(path).text
        assert EVIL not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_staff_of_another_location_get_not_found_for_the_customer_and_the_card(
    runtime: Runtime, console_client_for: ClientFor
) -> None:
    cid = enrol(runtime, "CAFE-LIS", card_number="RG-0002")
    elsewhere = console_client_for("manager", ["CAFE-PORTO"])
    for path in (f"/console/customers/{cid}", f"/console/customers/{cid}/card"):
        answer = elsewhere.get(path, headers={"Accept": "text/html"})
        assert answer.status_code == 404
        assert "Angela" not in answer.text
    posted = elsewhere.post(f"/console/customers/{cid}/notes", data=form(elsewhere, text="hi"))
    assert posted.status_code == 404
    assert queries.timeline(runtime.uow(), CLI, cid, types=["note"]).entries == ()


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_a_form_post_without_the_right_csrf_token_is_refused(
    runtime: Runtime, counter: TestClient, token: str | None
) -> None:
    cid = enrol(runtime, "CAFE-LIS")
    without_csrf_header(counter)
    data = {"text": "sneaky"} | ({"csrf_token": token} if token else {})
    answer = counter.post(f"/console/customers/{cid}/notes", data=data)
    assert answer.status_code == 403
    assert queries.timeline(runtime.uow(), CLI, cid, types=["note"]).entries == ()


def test_withdrawing_and_giving_consent_is_one_tap_each(
    runtime: Runtime, counter: TestClient
) -> None:
    cid = enrol(runtime, "CAFE-LIS", email="angela@example.com")
    given = counter.post(
        f"/console/customers/{cid}/consent", data=form(counter, channel="email", granted="yes")
    )
    assert given.status_code == 303
    view = queries.customer_360(runtime.uow(), CLI, cid)
    assert [(c.channel, c.granted) for c in view.consents] == [("email", True)]
    counter.post(
        f"/console/customers/{cid}/consent", data=form(counter, channel="email", granted="no")
    )
    view = queries.customer_360(runtime.uow(), CLI, cid)
    assert [(c.channel, c.granted) for c in view.consents] == [("email", False)]
    assert '<span class="badge bad">no</span>' in counter.get(f"/console/customers/{cid}").text


def test_contact_preferences_save_only_what_changed_and_bad_input_names_the_field(
    runtime: Runtime, counter: TestClient
) -> None:
    cid = enrol(runtime, "CAFE-LIS", phone="+351912345678")
    saved = counter.post(
        f"/console/customers/{cid}/contact",
        data=form(
            counter,
            preferred_channel="sms",
            quiet_start="21:00",
            quiet_end="08:30",
            phone="+351 912 345 678",
            email="",
            card_number="",
        ),
    )
    assert saved.status_code == 303
    profile = queries.get_customer(runtime.uow(), CLI, cid)
    assert profile.preferred_channel == "sms"
    assert profile.quiet_end is not None and profile.quiet_end.strftime("%H:%M") == "08:30"
    bad = counter.post(
        f"/console/customers/{cid}/contact",
        data=form(counter, phone="12", quiet_start="21:00"),
    )
    assert bad.status_code == 422
    assert "quiet_end" in bad.text or "phone" in bad.text


def test_the_member_card_shows_the_number_as_barcode_and_qr_code(
    runtime: Runtime, counter: TestClient
) -> None:
    cid = enrol(runtime, "CAFE-LIS", card_number="RG-000123")
    html = counter.get(f"/console/customers/{cid}/card").text
    assert 'class="barcode"' in html
    assert 'class="qrcode"' in html
    assert "Card number RG-000123" in html
    assert "Print card" in html


def test_a_customer_without_a_card_is_told_how_to_get_one(
    runtime: Runtime, counter: TestClient
) -> None:
    cid = enrol(runtime, "CAFE-LIS", birthday=date(1990, 1, 2).isoformat())
    html = counter.get(f"/console/customers/{cid}/card").text
    assert "No card yet" in html


def test_signed_out_visitors_are_sent_to_the_login_form(app: object, runtime: Runtime) -> None:
    cid = enrol(runtime, "CAFE-LIS")
    with TestClient(app, follow_redirects=False) as anonymous:  # type: ignore[arg-type]
        answer = anonymous.get(f"/console/customers/{cid}")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=/console/customers/")


def test_the_stylesheet_is_served_and_unknown_files_are_not(counter: TestClient) -> None:
    css = counter.get("/console/static/console.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert counter.get("/console/static/..%2Fapp.py").status_code == 404


def test_signing_out_from_the_console_ends_the_session(
    runtime: Runtime, counter: TestClient
) -> None:
    cid = enrol(runtime, "CAFE-LIS")
    out = counter.post("/logout", data=form(counter))
    assert out.status_code == 303
    again = counter.get(f"/console/customers/{cid}")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login")


def test_the_loyalty_panel_shows_the_program_tier_and_points(
    runtime: Runtime, counter: TestClient
) -> None:
    from regulars.services import loyalty
    from tests.loyalty_support import program_text

    ensure_location(runtime, "CAFE-LIS")
    loyalty.load_program_file(runtime.uow(), CLI, program_text("cafe"), now=runtime.now())
    cid = enrol(runtime, "CAFE-LIS", card_number="RG-LOYAL")
    loyalty.enrol(runtime.uow(), CLI, cid, "cafe", now=runtime.now())
    html = counter.get(f"/console/customers/{cid}").text
    loyalty_panel = html.split('id="loyalty-h"')[1].split("</section>")[0]
    assert "Café Regulars" in loyalty_panel
    assert "points" in loyalty_panel
    assert "Not a member" not in loyalty_panel
