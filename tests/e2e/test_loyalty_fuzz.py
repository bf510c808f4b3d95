"""Schemathesis on the loyalty routes with a program in force and a member with points."""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine

from regulars.bootstrap import Runtime
from regulars.domain.access import CLI
from regulars.services import accounts
from tests import factories
from tests.loyalty_support import ingest, load, program_text


def test_no_loyalty_request_makes_the_api_fail_with_a_500(
    app: FastAPI, runtime: Runtime, engine: Engine
) -> None:
    now = runtime.now()
    factories.location(engine, now, "CAFE-LIS")
    load(engine, now, program_text("cafe", **{"  pending_days: 7": "  pending_days: 0"}))
    for n in range(3):
        cid = factories.customer(engine, now, first_name=f"M{n}")
        ingest(
            engine,
            now,
            factories.purchase(
                f"p{n}",
                customer_id=cid,
                location="CAFE-LIS",
                lines=[{"sku": "cake", "category": "food", "unit_price": 9000}],
            ),
        )
    key = accounts.create_api_key(runtime.uow(), CLI, {"name": "fuzz", "role": "owner"}, now=now)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {key.secret}"}
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if "loyalty" in result.ok().path
        or "goodwill" in result.ok().path
        or "redemptions" in result.ok().path
        or "rewards" in result.ok().path
    ]
    assert len(operations) >= 8
    failures: list[str] = []
    for operation in operations:

        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            if case.path_parameters and "customer_id" in case.path_parameters:
                # mostly real members (1 to 3), sometimes nobody (4)
                case.path_parameters["customer_id"] = 1 + len(str(case.body)) % 4
            response = case.call(headers=headers)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} {case.body!r} → {response.status_code}: "
                f"{response.text[:300]}"
            )

        try:
            check()
        except Exception as failure:  # every failing operation is reported, not just the first
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}"[:600])
    assert not failures, "\n".join(failures)
