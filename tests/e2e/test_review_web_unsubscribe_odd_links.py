"""A mangled unsubscribe link (a mail program rewrote a digit) is 'this link does not work'.

The customer who opens it must see the page that says so, never a server error; and such a
link, like a forged one, withdraws nobody's consent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from regulars.bootstrap import Runtime
from regulars.domain.delivery import make_unsubscribe_token, read_unsubscribe_token
from regulars.web.app import create_app
from tests import factories

CONSENT = [{"channel": "email", "granted": True, "at": "2026-01-01T00:00:00+00:00"}]


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize("raw_id", ["²", "١", "１２", "1²"])
def test_a_link_whose_number_is_not_plain_digits_says_the_link_does_not_work(
    client: TestClient, runtime: Runtime, now: datetime, raw_id: str
) -> None:
    factories.location(runtime.engine, now)
    factories.customer(runtime.engine, now, home_location="CAFE-LIS", consents=CONSENT)
    real = make_unsubscribe_token(runtime.settings.secret_key, 1, "email")
    signature = real.split(".")[2]
    link = f"/u/{raw_id}.email.{signature}"
    for method in ("GET", "POST"):
        answer = client.request(method, link)
        assert answer.status_code == 404, f"{method}: {answer.status_code}"
        assert "This link does not work" in answer.text


def test_only_ascii_digits_name_a_customer_in_a_link() -> None:
    real = make_unsubscribe_token("secret", 12, "email")
    signature = real.split(".")[2]
    assert read_unsubscribe_token("secret", real) == (12, "email")
    assert read_unsubscribe_token("secret", f"١٢.email.{signature}") is None
