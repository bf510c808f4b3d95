"""Malformed ids and cursors in the API answer 422 naming the parameter, never a bare 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

HUGE = "99999999999999999999999"


def _field_of(answer: object) -> object:
    return answer.json()["error"]["field"]  # type: ignore[attr-defined]


def test_an_audit_cursor_of_unicode_digits_is_refused_naming_the_cursor(
    api_client: TestClient,
) -> None:
    answer = api_client.get("/api/v1/audit", params={"cursor": "²"})
    assert answer.status_code == 422, answer.text
    assert _field_of(answer) == "cursor"


def test_an_audit_cursor_too_big_for_an_id_is_refused_naming_the_cursor(
    api_client: TestClient,
) -> None:
    answer = api_client.get("/api/v1/audit", params={"cursor": HUGE})
    assert answer.status_code == 422, answer.text
    assert _field_of(answer) == "cursor"


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", f"/api/v1/tasks/{HUGE}/brief", "task_id"),
        ("POST", f"/api/v1/tasks/{HUGE}/outcome", "task_id"),
        ("POST", f"/api/v1/check-ins/{HUGE}/greeted", "checkin_id"),
        ("GET", f"/api/v1/tasks?staff_id={HUGE}", "staff_id"),
        ("DELETE", "/api/v1/api-keys/2147483648", "key_id"),
    ],
)
def test_an_id_too_big_for_any_row_is_refused_naming_it(
    api_client: TestClient, method: str, path: str, field: str
) -> None:
    body = {"outcome": "reached"} if method == "POST" else None
    answer = api_client.request(method, path, json=body)
    assert answer.status_code == 422, answer.text
    assert _field_of(answer) == field
