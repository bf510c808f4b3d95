"""The unsubscribe link in every e-mail: a page to confirm, and the RFC 8058 one-click POST."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from regulars.bootstrap import Runtime
from regulars.domain.delivery import make_unsubscribe_token
from regulars.store.tables import audit_log, consents, events
from regulars.web.app import create_app
from tests import factories

CONSENT = [{"channel": "email", "granted": True, "at": "2026-01-01T00:00:00+00:00"}]


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


@pytest.fixture
def ana(runtime: Runtime, now: datetime) -> int:
    factories.location(runtime.engine, now)
    return factories.customer(
        runtime.engine, now, email="ana@example.com", home_location="CAFE-LIS", consents=CONSENT
    )


def _link(runtime: Runtime, customer_id: int, channel: str = "email") -> str:
    return f"/u/{make_unsubscribe_token(runtime.settings.secret_key, customer_id, channel)}"


def _email_consent(runtime: Runtime, customer_id: int) -> bool | None:
    with runtime.engine.connect() as conn:
        return conn.scalar(
            select(consents.c.granted).where(
                consents.c.customer_id == customer_id, consents.c.channel == "email"
            )
        )


def test_opening_the_link_asks_first_and_changes_nothing(
    client: TestClient, runtime: Runtime, ana: int
) -> None:
    page = client.get(_link(runtime, ana))
    assert page.status_code == 200
    assert "Unsubscribe from e-mails?" in page.text and "Ana" in page.text
    assert f'action="{_link(runtime, ana)}"' in page.text
    assert _email_consent(runtime, ana) is True


def test_a_one_click_post_withdraws_email_consent_and_says_so_on_the_timeline(
    client: TestClient, runtime: Runtime, ana: int, now: datetime
) -> None:
    answer = client.post(_link(runtime, ana), data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert "You are unsubscribed" in answer.text
    assert _email_consent(runtime, ana) is False
    with runtime.engine.connect() as conn:
        payloads = [
            p
            for (p,) in conn.execute(
                select(events.c.payload).where(
                    events.c.customer_id == ana, events.c.type == "consent"
                )
            )
        ]
        actors = [a for (a,) in conn.execute(select(audit_log.c.actor))]
    assert payloads[-1]["granted"] is False and payloads[-1]["how"] == "one-click unsubscribe"
    assert f"customer:{ana}" in actors


def test_clicking_twice_changes_nothing_the_second_time(
    client: TestClient, runtime: Runtime, ana: int
) -> None:
    client.post(_link(runtime, ana))
    with runtime.engine.connect() as conn:
        before = conn.execute(select(events.c.id)).all()
    again = client.post(_link(runtime, ana))
    page = client.get(_link(runtime, ana))
    assert again.status_code == 200 and "You are unsubscribed" in again.text
    assert "You are unsubscribed" in page.text
    with runtime.engine.connect() as conn:
        assert conn.execute(select(events.c.id)).all() == before


def test_an_sms_link_only_stops_text_messages(
    client: TestClient, runtime: Runtime, ana: int
) -> None:
    answer = client.post(_link(runtime, ana, "sms"))
    assert "no more text messages" in answer.text
    assert _email_consent(runtime, ana) is True


@pytest.mark.parametrize(
    "token",
    ["garbage", "1.email.forgedsignature", "1.pigeon.x", "99999999.email.abc"],
)
def test_a_forged_or_broken_link_is_a_polite_404_that_writes_nothing(
    client: TestClient, runtime: Runtime, ana: int, token: str
) -> None:
    for answer in (client.get(f"/u/{token}"), client.post(f"/u/{token}")):
        assert answer.status_code == 404
        assert "This link does not work" in answer.text
    assert _email_consent(runtime, ana) is True


def test_a_valid_signature_for_someone_who_does_not_exist_is_a_404(
    client: TestClient, runtime: Runtime, ana: int
) -> None:
    assert client.post(_link(runtime, ana + 1000)).status_code == 404
