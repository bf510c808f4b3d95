"""A login form sent with a NUL byte in the e-mail (a script, a broken password manager)
gets the usual answer: the form again, "wrong e-mail or password", counted like any guess.

On PostgreSQL the byte reached the database, which refused it: the answer was a bare error
page about a value being too large, and the guess did not count against the address.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from regulars.bootstrap import Runtime
from regulars.store.access_tables import login_attempts
from tests.web_fixtures import ensure_location, staff_with_password


def test_a_nul_byte_in_the_e_mail_is_a_wrong_login_shown_on_the_form(
    app: FastAPI, runtime: Runtime
) -> None:
    ensure_location(runtime, "HQ")
    email = staff_with_password(runtime, "staff", ["HQ"])
    client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    client.get("/login")
    token = client.cookies.get("regulars_login_csrf") or ""
    answer = client.post(
        "/login",
        data={"email": email.replace("@", "\x00@"), "password": "guess", "csrf_token": token},
        headers={"Accept": "text/html"},
    )
    assert answer.status_code == 401, answer.text
    assert "Wrong e-mail or password" in answer.text
    assert 'name="password"' in answer.text
    with runtime.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(login_attempts)) == 1
