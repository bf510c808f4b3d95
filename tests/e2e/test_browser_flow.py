"""The counter and the phone, in a real browser: Debian's chromium, headless, via Playwright.

The real app runs under uvicorn on a free loopback port over a SQLite file seeded through
the real services, with the clock fixed on João's birthday. A rep signs in, checks João in
by card number (typed and Enter, as a USB scanner does), sees the birthday prompt, taps
"greeted", leaves a note, opens the queue, records the birthday call with a happy face and
a note, and finds all of it on João's timeline. A screenshot of every step is kept under
``test-artifacts/browser/``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import text

from regulars.bootstrap import build
from regulars.config import Settings
from regulars.domain.access import CLI
from regulars.services import accounts
from regulars.services import customers as customer_service
from regulars.services.ingest import ingest_events
from regulars.services.planning import plan_day
from regulars.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
BIRTHDAY_MORNING = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)  # 10:30 in Lisbon, João's birthday
PASSWORD = "correct horse battery"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)",
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(url: str) -> None:
    """A dealership, its rep Rui, and João: birthday today, a card, a wife with a recalled car."""
    runtime = build(Settings(database_url=url), now=BIRTHDAY_MORNING)
    now = runtime.now()
    customer_service.create_location(
        runtime.uow(),
        CLI,
        {
            "code": "DEAL-POR",
            "name": "Dealer Porto",
            "timezone": "Europe/Lisbon",
            "kind": "dealership",
            "city": "Porto",
        },
        now=now,
    )
    rui = accounts.add_staff(
        runtime.uow(),
        CLI,
        {
            "email": "rui@example.com",
            "name": "Rui",
            "role": "rep",
            "locations": ["DEAL-POR"],
            "daily_call_capacity": 6,
            "working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        },
        password=PASSWORD,
        now=now,
    )
    joao = customer_service.create_customer(
        runtime.uow(),
        CLI,
        {
            "first_name": "João",
            "last_name": "Ferreira",
            "card_number": "DEAL-0042",
            "phone": "+351912345678",
            "birthday": "1962-05-01",
            "city": "Porto",
            "home_location": "DEAL-POR",
            "owner_staff_id": rui,
        },
        now=now,
    )
    customer_service.add_household_member(
        runtime.uow(), CLI, joao, {"name": "Marta", "relation": "spouse"}, now=now
    )
    ingest_events(
        runtime.uow(),
        [
            {
                "type": "purchase",
                "source": "pos",
                "external_id": "car-2024",
                "occurred_at": "2024-03-10T11:00:00+00:00",
                "customer_id": joao,
                "lines": [{"sku": "passat", "category": "cars", "unit_price": 4_200_000}],
            }
        ],
        now=now,
    )
    plan_day(runtime.uow(), day=date(2026, 5, 1), now=datetime(2026, 5, 1, 5, 0, tzinfo=UTC))
    runtime.engine.dispose()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The real app under uvicorn in a thread; yields its base URL and database URL."""
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    seed(url)
    runtime = build(Settings(database_url=url), now=BIRTHDAY_MORNING)
    port = free_port()
    config = uvicorn.Config(
        create_app(runtime), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", url
    uv.should_exit = True
    thread.join(timeout=10)
    runtime.engine.dispose()


def test_a_rep_checks_in_a_birthday_customer_greets_notes_calls_and_sees_it_all(
    server: tuple[str, str],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, url = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots = iter(range(1, 100))

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1024, "height": 768})  # a counter tablet
        page.set_default_timeout(15_000)

        def shot(name: str) -> None:
            page.screenshot(path=str(ARTIFACTS / f"{next(shots):02d}-{name}.png"), full_page=True)

        try:
            page.goto(f"{base}/console/")
            expect(page).to_have_url(f"{base}/login?next=/console/check-in")
            page.get_by_label("E-mail").fill("rui@example.com")
            page.get_by_label("Password").fill(PASSWORD)
            shot("login")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Check-in")).to_be_visible()

            # The USB scanner types the card number and presses Enter.
            page.locator("#card").fill("deal-0042")
            page.locator("#card").press("Enter")
            prompt = page.locator(".prompt .say").first
            expect(prompt).to_contain_text("It is João's birthday today")
            shot("birthday-prompt")

            page.get_by_role("button", name="Greeted").click()
            expect(page.get_by_text("Greeted ✓")).to_be_visible()
            expect(page.get_by_role("status")).to_contain_text("Marked as greeted.")
            shot("greeted")

            page.get_by_role("textbox", name="Quick note").fill(
                "Back from the Algarve, asked about Marta's car"
            )
            page.get_by_role("button", name="Save note").click()
            expect(page.get_by_role("status")).to_contain_text("Note saved")
            shot("note-saved")

            page.get_by_role("link", name="My queue").click()
            task = page.locator("article.task").filter(has_text="João Ferreira")
            expect(task).to_contain_text("Marta")
            shot("queue-with-brief")
            task.get_by_label("Reached").check()
            task.get_by_role("radio", name="Happy", exact=True).check()
            task.get_by_label("Notes").fill("Happy birthday call; he will bring the car in")
            task.get_by_role("button", name="Record outcome").click()
            expect(page.get_by_role("status")).to_contain_text("Outcome recorded.")
            shot("outcome-recorded")

            page.goto(f"{base}/console/check-in?q=Ferreira")
            page.get_by_role("link", name="Profile").click()
            timeline = page.locator("ol.timeline")
            for kind in ("visit", "greeted", "note", "call"):
                expect(timeline.locator(f'li[data-type="{kind}"]').first).to_be_visible()
            expect(timeline).to_contain_text("Back from the Algarve, asked about Marta's car")
            expect(timeline).to_contain_text("Happy birthday call; he will bring the car in")
            expect(timeline.locator('li[data-type="call"]')).to_contain_text("reached")
            expect(timeline.locator('li[data-type="call"] [aria-label="happy"]')).to_be_visible()
            shot("timeline")
        finally:
            browser.close()

    runtime = build(Settings(database_url=url), migrate=False)
    with runtime.engine.connect() as conn:
        kinds = set(conn.scalars(text("select type from events")))
    runtime.engine.dispose()
    assert {"visit", "greeted", "note", "call"} <= kinds
