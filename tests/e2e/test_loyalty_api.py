"""The loyalty API: a member's status, the catalogue, redemption with idempotency, goodwill."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from regulars.store.loyalty_tables import loyalty_ledger
from tests import factories
from tests.loyalty_support import cafe_member, load, open_cafe, program_text
from tests.web_fixtures import ClientFor

LIS = "CAFE-LIS"


def _member(engine: Engine, now: datetime, euros: int = 100) -> int:
    open_cafe(engine, now)
    return cafe_member(engine, now, euros * 100, home_location=LIS)


def _entries(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(loyalty_ledger)) or 0)


def test_a_member_sees_points_tier_progress_and_what_gold_would_give(
    engine: Engine, now: datetime, api_client: TestClient
) -> None:
    cid = _member(engine, now)

    response = api_client.get(f"/api/v1/customers/{cid}/loyalty")

    assert response.status_code == 200
    (status,) = response.json()
    assert status["available_points"] == 100
    assert status["available_value"] == 1000
    assert status["tier"]["name"] == "Member"
    assert status["next_tier"]["name"] == "Gold"
    assert status["next_tier"]["needed"] == 10_000
    assert "100.00 EUR more spend" in status["progress"]
    assert status["expiring"][0]["points"] == 100


def test_the_catalogue_lists_rewards_with_their_price_and_stock(
    engine: Engine, now: datetime, api_client: TestClient
) -> None:
    _member(engine, now)

    rewards = {r["code"]: r for r in api_client.get("/api/v1/rewards").json()}

    assert rewards["free-drink"]["points"] == 35
    assert rewards["beans"]["min_tier"] == "gold"
    assert rewards["beans"]["stock_left"] == 100


def test_a_retried_redemption_gets_the_first_answer_and_spends_once(
    engine: Engine, now: datetime, api_client: TestClient
) -> None:
    cid = _member(engine, now)
    url = f"/api/v1/customers/{cid}/redemptions"
    headers = {"Idempotency-Key": "till-7-receipt-42"}

    first = api_client.post(url, json={"reward": "free-drink"}, headers=headers)
    again = api_client.post(url, json={"reward": "free-drink"}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["available_points"] == 65
    status = api_client.get(f"/api/v1/customers/{cid}/loyalty").json()[0]
    assert status["available_points"] == 65


def test_the_same_key_with_another_body_is_a_conflict_and_writes_nothing(
    engine: Engine, now: datetime, api_client: TestClient
) -> None:
    cid = _member(engine, now)
    url = f"/api/v1/customers/{cid}/redemptions"
    headers = {"Idempotency-Key": "k1"}
    api_client.post(url, json={"reward": "free-drink"}, headers=headers)
    before = _entries(engine)

    clash = api_client.post(url, json={"reward": "pastry"}, headers=headers)

    assert clash.status_code == 409
    assert clash.json()["error"]["field"] == "Idempotency-Key"
    assert _entries(engine) == before


def test_bad_redemptions_answer_4xx_with_the_field(
    engine: Engine, now: datetime, api_client: TestClient
) -> None:
    cid = _member(engine, now, euros=20)
    url = f"/api/v1/customers/{cid}/redemptions"
    before = _entries(engine)

    too_dear = api_client.post(url, json={"reward": "free-drink"})
    unknown = api_client.post(url, json={"reward": "caviar"})
    above_tier = api_client.post(url, json={"reward": "beans"})
    nobody = api_client.post("/api/v1/customers/999999/redemptions", json={"reward": "pastry"})

    assert too_dear.status_code == unknown.status_code == above_tier.status_code == 422
    assert too_dear.json()["error"]["field"] == "reward"
    assert "needs 35 points; 20 are available" in too_dear.json()["error"]["message"]
    assert nobody.status_code == 404
    assert _entries(engine) == before


def test_staff_goodwill_within_limit_is_instant_and_above_it_needs_a_manager(
    engine: Engine, now: datetime, client_for: ClientFor
) -> None:
    cid = _member(engine, now)
    barista = client_for("staff", [LIS])
    manager = client_for("manager", [LIS])
    url = f"/api/v1/customers/{cid}/goodwill"

    small = barista.post(url, json={"points": 50, "reason": "Cold latte"})
    big = barista.post(url, json={"points": 500, "reason": "Spilled on her laptop"})

    assert small.status_code == 201
    assert small.json()["status"] == "granted"
    assert big.json()["status"] == "requested"
    waiting = manager.get("/api/v1/goodwill/requests").json()
    assert [w["points"] for w in waiting] == [500]
    refused = barista.post(f"/api/v1/goodwill/{big.json()['goodwill_id']}/approve", json={})
    assert refused.status_code == 403
    approved = manager.post(f"/api/v1/goodwill/{big.json()['goodwill_id']}/approve", json={})
    assert approved.json()["status"] == "approved"
    status = manager.get(f"/api/v1/customers/{cid}/loyalty").json()[0]
    assert status["available_points"] == 100 + 50 + 500


def test_opting_in_choosing_a_double_day_and_the_census(
    engine: Engine, now: datetime, api_client: TestClient
) -> None:
    cid = _member(engine, now)
    factories.location(engine, now, "AUTO-MUC", timezone="Europe/Berlin")
    load(engine, now, program_text("dealership"))

    joined = api_client.post(
        f"/api/v1/customers/{cid}/loyalty/enrolment", json={"program": "dealership"}
    )
    again = api_client.post(
        f"/api/v1/customers/{cid}/loyalty/enrolment", json={"program": "dealership"}
    )
    day = {"program": "cafe", "day": "2026-05-20"}
    chosen = api_client.put(f"/api/v1/customers/{cid}/loyalty/double-points-day", json=day)
    twice = api_client.put(
        f"/api/v1/customers/{cid}/loyalty/double-points-day", json=day | {"day": "2026-05-21"}
    )
    census = {row["program"]: row for row in api_client.get("/api/v1/loyalty/census").json()}

    assert (joined.status_code, again.status_code) == (201, 200)
    assert chosen.status_code == 204
    assert twice.status_code == 409
    assert census["cafe"]["enrolled"] == 1
    assert census["dealership"]["enrolled"] == 1
    assert census["cafe"]["liability"] == 1000
