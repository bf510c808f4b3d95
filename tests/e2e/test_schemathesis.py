"""Schemathesis against our own OpenAPI description: whatever it sends, never a 500.

Runs in-process against the ASGI app (on SQLite, and again on PostgreSQL), signed in with an
owner's key so that requests get past authentication and reach the services. Every operation
in the description gets a bounded number of generated requests, so the run takes a minute
or two; a failure prints the request that caused it.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from regulars.bootstrap import Runtime
from regulars.domain.access import CLI
from regulars.services import accounts
from tests.web_fixtures import ensure_location

EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def owner_key(runtime: Runtime) -> str:
    ensure_location(runtime, "CAFE-LIS")
    key = accounts.create_api_key(
        runtime.uow(), CLI, {"name": "schemathesis", "role": "owner"}, now=runtime.now()
    )
    return key.secret


def test_no_request_the_api_describes_makes_it_fail_with_a_500(
    app: FastAPI, owner_key: str
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {owner_key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, "the API description lists the operations"
    failures: list[str] = []
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} → {response.status_code}: "
                f"{response.text[:300]}"
            )

        try:
            check()
        except Exception as failure:
            first = str(failure).splitlines()[0] if str(failure) else ""
            failures.append(
                f"{operation.method.upper()} {operation.path}: {type(failure).__name__} {first}"
            )
    assert not failures, "\n".join(failures)
