"""Every page and answer tells the browser not to frame it, sniff it, or leak its address.

A console page framed by another site can be clicked through blind (a goodwill grant, an
outcome); a sniffed JSON answer can run as script; the unsubscribe link's token in a
Referer leaks who the customer is. A customer's page also must not stay in the counter
computer's cache for the next person to bring back after sign-out.
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from regulars.bootstrap import Runtime
from regulars.web.app import create_app
from tests.web_fixtures import ClientFor


def _assert_guarded(headers: object, where: str) -> None:
    assert hasattr(headers, "get")
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("x-frame-options") == "DENY", where
    assert headers.get("referrer-policy") in ("no-referrer", "same-origin"), where
    policy = headers.get("content-security-policy") or ""
    assert "frame-ancestors 'none'" in policy, where


def _script_policy(policy: str) -> str:
    found = re.search(r"script-src ([^;]*)", policy) or re.search(r"default-src ([^;]*)", policy)
    assert found, policy
    return found.group(1)


def test_the_login_form_and_public_pages_cannot_be_framed_or_sniffed(app: FastAPI) -> None:
    client = TestClient(app, follow_redirects=False)
    for url in ("/login", "/u/not-a-real-token", "/healthz", "/console/static/console.js"):
        _assert_guarded(client.get(url).headers, url)
    policy = client.get("/login").headers["content-security-policy"]
    assert "'unsafe-inline'" not in _script_policy(policy)


def test_console_pages_api_answers_and_errors_carry_the_same_guards(
    console_client: TestClient, api_client: TestClient
) -> None:
    for url in ("/console/check-in", "/console/queue", "/console/goodwill"):
        answer = console_client.get(url)
        assert answer.status_code == 200, url
        _assert_guarded(answer.headers, url)
        assert "no-store" in answer.headers.get("cache-control", ""), url
    for answer in (
        api_client.get("/api/v1/me"),
        api_client.get("/api/v1/customers/999999"),
        TestClient(api_client.app).get("/api/v1/me"),
    ):
        _assert_guarded(answer.headers, str(answer.url))
        assert "no-store" in answer.headers.get("cache-control", "")


@pytest.mark.parametrize("page", ["", "/card"])
def test_a_customer_page_runs_no_inline_script_the_policy_would_block(
    console_client: TestClient, api_client: TestClient, page: str
) -> None:
    created = api_client.post(
        "/api/v1/customers",
        json={"first_name": "Ada", "last_name": "Framed", "card_number": "C-77"},
    )
    assert created.status_code == 201, created.text
    customer = created.json()["profile"]["id"]
    answer = console_client.get(f"/console/customers/{customer}{page}")
    assert answer.status_code == 200, answer.text
    _assert_guarded(answer.headers, page)
    assert "<script>" not in answer.text
    assert not re.search(r"\son[a-z]+=", answer.text), "inline event handlers need 'unsafe-inline'"


def test_the_api_description_still_works_under_its_own_policy(app: FastAPI) -> None:
    answer = TestClient(app).get("/docs")
    assert answer.status_code == 200
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_the_policy_holds_for_every_role(console_client_for: ClientFor) -> None:
    client = console_client_for("staff", ["HQ"])
    _assert_guarded(client.get("/console/check-in").headers, "staff check-in")


def test_a_console_served_over_https_tells_browsers_to_use_https_only(
    app: FastAPI, runtime: Runtime
) -> None:
    assert "strict-transport-security" not in TestClient(app).get("/login").headers
    secure = Runtime(
        settings=runtime.settings.model_copy(update={"base_url": "https://shop.example"}),
        engine=runtime.engine,
        clock=runtime.clock,
    )
    client = TestClient(create_app(secure), base_url="https://testserver")
    for url in ("/login", "/api/v1/me"):
        assert client.get(url).headers["strict-transport-security"].startswith("max-age="), url
