"""The web core: sign-in, sessions, CSRF, API keys, error bodies, size limits, idempotency."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from regulars.bootstrap import Runtime
from regulars.web.app import create_app
from tests.web_fixtures import PASSWORD, ensure_location, log_in, staff_with_password


def test_an_api_request_without_credentials_is_told_to_sign_in(app: FastAPI) -> None:
    with TestClient(app) as client:
        answer = client.get("/api/v1/me")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"


def test_the_servers_bare_address_leads_to_the_console_and_its_sign_in(app: FastAPI) -> None:
    with TestClient(app) as client:
        answer = client.get("/")
    assert answer.status_code == 200
    assert answer.url.path == "/login"


def test_a_revoked_or_made_up_key_is_refused(app: FastAPI) -> None:
    with TestClient(app) as client:
        answer = client.get("/api/v1/me", headers={"Authorization": "Bearer rk_nope_nope"})
    assert answer.status_code == 401


def test_the_owner_key_says_who_it_is(api_client: TestClient) -> None:
    answer = api_client.get("/api/v1/me")
    assert answer.status_code == 200
    assert answer.json()["kind"] == "api_key"
    assert answer.json()["role"] == "owner"


def test_a_console_user_signs_in_through_the_form_and_gets_a_safe_cookie(
    app: FastAPI, console_client: TestClient
) -> None:
    answer = console_client.get("/api/v1/me")
    assert answer.status_code == 200
    assert answer.json()["kind"] == "staff"


def test_the_session_cookie_is_http_only_and_same_site(app: FastAPI) -> None:
    runtime = app.state.runtime
    ensure_location(runtime, "HQ")
    email = staff_with_password(runtime, "staff", ["HQ"])
    with TestClient(app, follow_redirects=False) as client:
        client.get("/login")
        answer = client.post(
            "/login",
            data={
                "email": email,
                "password": PASSWORD,
                "csrf_token": client.cookies.get("regulars_login_csrf") or "",
            },
        )
    cookie = answer.headers["set-cookie"].lower()
    assert "regulars_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_a_wrong_password_is_refused_and_repeated_guessing_is_throttled(app: FastAPI) -> None:
    runtime = app.state.runtime
    ensure_location(runtime, "HQ")
    email = staff_with_password(runtime, "staff", ["HQ"])
    with TestClient(app, follow_redirects=False) as client:
        client.get("/login")
        token = client.cookies.get("regulars_login_csrf") or ""
        statuses = []
        for _ in range(6):
            answer = client.post(
                "/login", data={"email": email, "password": "wrong guess!", "csrf_token": token}
            )
            statuses.append(answer.status_code)
        assert statuses[:5] == [401] * 5
        assert statuses[5] == 429
        assert "too many wrong passwords" in answer.text.lower()
        # even the right password waits now
        right = client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
        )
        assert right.status_code == 429


def test_a_login_form_without_its_csrf_token_is_refused(app: FastAPI) -> None:
    runtime = app.state.runtime
    ensure_location(runtime, "HQ")
    email = staff_with_password(runtime, "staff", ["HQ"])
    with TestClient(app, follow_redirects=False) as client:
        client.get("/login")
        answer = client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": "forged"}
        )
    assert answer.status_code == 403
    assert "regulars_session" not in answer.headers.get("set-cookie", "")


def test_a_signed_in_browser_cannot_write_through_the_api_without_the_csrf_token(
    console_client: TestClient,
) -> None:
    token = console_client.headers.pop("X-CSRF-Token")
    answer = console_client.post("/api/v1/customers", json={"first_name": "Eve"})
    assert answer.status_code == 403
    assert answer.json()["error"]["field"] == "csrf_token"
    console_client.headers["X-CSRF-Token"] = token


def test_logging_out_ends_the_session(app: FastAPI, console_client: TestClient) -> None:
    token = console_client.headers["X-CSRF-Token"]
    answer = console_client.post("/logout", data={"csrf_token": token})
    assert answer.status_code == 303
    console_client.cookies.clear()
    assert console_client.get("/api/v1/me").status_code == 401


def test_logging_in_again_works_after_logout(app: FastAPI) -> None:
    runtime = app.state.runtime
    ensure_location(runtime, "HQ")
    email = staff_with_password(runtime, "manager", ["HQ"])
    first = log_in(app, email)
    first.post("/logout", data={"csrf_token": first.headers["X-CSRF-Token"]})
    second = log_in(app, email)
    assert second.get("/api/v1/me").json()["role"] == "manager"


def test_an_oversized_body_is_refused_with_413(api_client: TestClient) -> None:
    answer = api_client.post(
        "/api/v1/events",
        content=b"[" + b" " * (5 * 1024 * 1024) + b"]",
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "too_large"


def test_an_unknown_path_answers_in_the_usual_error_shape(api_client: TestClient) -> None:
    answer = api_client.get("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert set(answer.json()["error"]) >= {"code", "message", "field"}


def test_a_console_page_without_a_session_sends_the_browser_to_login(app: FastAPI) -> None:
    with TestClient(app, follow_redirects=False) as client:
        answer = client.get("/login?next=//evil.example/")
    assert answer.status_code == 200
    assert "//evil.example" not in answer.text


def test_an_expired_session_is_refused_and_the_console_says_so(
    app: FastAPI, console_client: TestClient
) -> None:
    runtime = app.state.runtime
    runtime.clock.at = runtime.clock.at + timedelta(hours=13)
    assert console_client.get("/api/v1/me").status_code == 401
    page = console_client.get("/console/queue")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=/console/queue")
    assert "reason=expired" in page.headers["location"]


def test_an_idle_session_ends_after_two_hours(app: FastAPI, console_client: TestClient) -> None:
    runtime = app.state.runtime
    runtime.clock.at = runtime.clock.at + timedelta(hours=2, minutes=1)
    assert console_client.get("/api/v1/me").status_code == 401


def test_cookies_are_secure_when_the_console_is_served_over_https(runtime: Runtime) -> None:
    secure = Runtime(
        settings=runtime.settings.model_copy(update={"base_url": "https://shop.example"}),
        engine=runtime.engine,
        clock=runtime.clock,
    )
    app = create_app(secure)
    ensure_location(secure, "HQ")
    email = staff_with_password(secure, "staff", ["HQ"])
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        form = client.get("/login")
        assert "secure" in form.headers["set-cookie"].lower()
        answer = client.post(
            "/login",
            data={
                "email": email,
                "password": PASSWORD,
                "csrf_token": client.cookies.get("regulars_login_csrf") or "",
            },
        )
    assert "secure" in answer.headers["set-cookie"].lower()


def test_a_form_post_without_the_sessions_csrf_token_is_refused(
    console_client: TestClient,
) -> None:
    token = console_client.headers.pop("X-CSRF-Token")
    answer = console_client.post("/logout", data={"csrf_token": "forged"})
    assert answer.status_code == 403
    assert console_client.get("/api/v1/me", headers={"X-CSRF-Token": token}).status_code == 200


def test_a_wrong_password_does_not_say_whether_the_account_exists(app: FastAPI) -> None:
    with TestClient(app, follow_redirects=False) as client:
        client.get("/login")
        token = client.cookies.get("regulars_login_csrf") or ""
        answer = client.post(
            "/login",
            data={"email": "nobody@example.com", "password": "whatever", "csrf_token": token},
        )
    assert answer.status_code == 401
    assert "Wrong e-mail or password" in answer.text


def test_html_in_an_error_is_escaped_on_console_pages(app: FastAPI) -> None:
    with TestClient(app, follow_redirects=False) as client:
        answer = client.get("/console/<script>alert(1)</script>", headers={"accept": "text/html"})
    assert answer.status_code in (303, 404)
    assert "<script>alert(1)</script>" not in answer.text


def test_an_oversized_body_without_a_length_is_cut_off_while_streaming(
    api_client: TestClient,
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"["
        for _ in range(80):
            yield b" " * 65536
        yield b"]"

    answer = api_client.post(
        "/api/v1/events", content=chunks(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "too_large"


def test_an_unexpected_fault_is_a_plain_500_that_gives_nothing_away(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/api/v1/test-fault")
    def fault() -> None:
        raise RuntimeError("secret connection string postgres://admin:hunter2@db")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/test-fault")

    assert answer.status_code == 500
    assert answer.json() == {
        "error": {
            "code": "internal",
            "message": "something went wrong on our side; it has been logged",
            "field": None,
        }
    }
    assert "hunter2" not in answer.text
    assert "hunter2" in caplog.text
