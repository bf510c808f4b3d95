"""A garbled API key (a NUL byte from a badly configured till, a pasted fragment) is a 401.

The integrator must read "this API key is unknown or was revoked", the same on SQLite and
PostgreSQL, not a 422 about a value being too large.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    "secret", ["rk_\x00", "rk_ab\x00cd_xyz", "rk_" + "é" * 8 + "_xyz", "rk__", "rk_1234567_x"]
)
def test_a_garbled_key_is_refused_as_unknown(app: FastAPI, secret: str) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}".encode()})
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "unauthenticated"
    assert answer.headers["www-authenticate"] == "Bearer"
