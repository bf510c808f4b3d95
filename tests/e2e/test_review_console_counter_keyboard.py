"""The counter screen with a keyboard only, in a real browser (Debian's chromium, headless).

A clerk who works at three counters moved the "Counter at" list with the arrow keys: the
first arrow press already reloaded the page at the next location and threw the focus back
into the card box, so the third location could not be reached by keyboard in one go.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from regulars.bootstrap import build
from regulars.config import Settings
from regulars.domain.access import CLI
from regulars.services import accounts
from regulars.services import customers as customer_service
from tests.e2e.test_browser_flow import (
    BIRTHDAY_MORNING,
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    server,
)

__all__ = ["server"]  # the fixture, shared with the main browser flow

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)",
    ),
]

CLERK = "clara@example.com"


@pytest.fixture
def three_counters(server: tuple[str, str]) -> Iterator[str]:
    """A clerk at three cafés (the seeded dealership plus two), signed up with a password."""
    base, url = server
    runtime = build(Settings(database_url=url), now=BIRTHDAY_MORNING)
    now = runtime.now()
    for code, name in (("CAFE-A", "Café Alfama"), ("CAFE-B", "Café Belém")):
        customer_service.create_location(
            runtime.uow(),
            CLI,
            {"code": code, "name": name, "timezone": "Europe/Lisbon"},
            now=now,
        )
    accounts.add_staff(
        runtime.uow(),
        CLI,
        {
            "email": CLERK,
            "name": "Clara",
            "role": "staff",
            "locations": ["DEAL-POR", "CAFE-A", "CAFE-B"],
        },
        password=PASSWORD,
        now=now,
    )
    runtime.engine.dispose()
    yield base


def test_a_clerk_picks_the_third_counter_with_the_arrow_keys_and_switches_once(
    three_counters: str,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = three_counters
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1024, "height": 768})
        page.set_default_timeout(15_000)
        try:
            page.goto(f"{base}/login?next=/console/check-in")
            page.get_by_label("E-mail").fill(CLERK)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_label("Password").press("Enter")
            expect(page.get_by_role("heading", name="Check-in")).to_be_visible()
            at = page.get_by_label("Counter at")
            first = at.input_value()
            options = at.locator("option").evaluate_all("els => els.map(e => e.value)")
            third = options[2]

            at.focus()
            page.keyboard.press("ArrowDown")
            page.wait_for_timeout(300)
            expect(page).to_have_url(f"{base}/console/check-in")  # nothing moved yet
            page.keyboard.press("ArrowDown")
            page.keyboard.press("Tab")
            page.keyboard.press("Enter")  # the switch button, reached by keyboard

            expect(page).to_have_url(f"{base}/console/check-in?location={third}")
            expect(page.get_by_label("Counter at")).to_have_value(third)
            assert third != first
        finally:
            browser.close()
