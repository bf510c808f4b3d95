"""Customers over the API: enrol, read, change, search, timeline, household, merge."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from regulars.bootstrap import Runtime
from regulars.store.tables import audit_log, customers
from tests.web_fixtures import ensure_location


def _enrol(client: TestClient, **fields: object) -> dict:
    answer = client.post("/api/v1/customers", json={"first_name": "Ana", **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()["profile"]


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(customers)) or 0)


def test_a_customer_enrolled_through_the_api_can_be_read_back_with_household_and_preferences(
    api_client: TestClient, runtime: Runtime
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    profile = _enrol(
        api_client,
        last_name="Silva",
        card_number="c-100",
        email="Ana@Example.COM",
        phone="+351 912 345 678",
        birthday="1990-02-28",
        home_location="CAFE-LIS",
    )
    cid = profile["id"]
    assert profile["card_number"] == "C-100"
    assert profile["phone"] == "+351912345678"
    assert profile["home_location"] == "CAFE-LIS"

    member = api_client.post(
        f"/api/v1/customers/{cid}/household-members",
        json={"name": "Bea", "relation": "spouse", "birthday": "1991-06-01"},
    )
    assert member.status_code == 201
    asset = api_client.post(
        f"/api/v1/customers/{cid}/assets",
        json={"kind": "car", "label": "VW ID.4", "member_name": "Bea", "details": {"vin": "X1"}},
    )
    assert asset.status_code == 201
    pref = api_client.put(
        f"/api/v1/customers/{cid}/preferences",
        json={"label": "usual order", "value": "London Fog latte, extra hot"},
    )
    assert pref.status_code == 200
    consent = api_client.put(
        f"/api/v1/customers/{cid}/consents",
        json={"channel": "email", "granted": True, "at": "2026-04-01T10:00:00+01:00"},
    )
    assert consent.status_code == 200

    view = api_client.get(f"/api/v1/customers/{cid}").json()
    assert [m["name"] for m in view["household"]["members"]] == ["Bea"]
    assert view["assets"][0]["member_name"] == "Bea"
    assert view["preferences"][0]["value"] == "London Fog latte, extra hot"
    assert view["consents"][0] == {
        "channel": "email",
        "granted": True,
        "at": "2026-04-01T09:00:00Z",
        "source": "staff",
    }


def test_a_patch_changes_only_what_was_sent_and_is_audited_with_before_and_after(
    api_client: TestClient, engine: Engine
) -> None:
    cid = _enrol(api_client, last_name="Silva", city="Lisbon")["id"]

    answer = api_client.patch(f"/api/v1/customers/{cid}", json={"city": "Porto"})

    assert answer.status_code == 200
    assert answer.json()["profile"]["city"] == "Porto"
    assert answer.json()["profile"]["last_name"] == "Silva"
    with engine.connect() as conn:
        entry = conn.execute(select(audit_log).where(audit_log.c.action == "customer.update")).one()
    assert entry.before == {"city": "Lisbon"}
    assert entry.after["city"] == "Porto"
    assert entry.actor.startswith("api_key:")


def test_search_finds_customers_by_name_phone_email_or_card(api_client: TestClient) -> None:
    ana = _enrol(
        api_client,
        last_name="Silva",
        card_number="C-001",
        email="ana@example.com",
        phone="+351911111111",
    )["id"]
    _enrol(api_client, first_name="Bruno", last_name="Costa", card_number="C-002")

    def ids(**params: str) -> list[int]:
        answer = api_client.get("/api/v1/customers", params=params)
        assert answer.status_code == 200, answer.text
        return [c["id"] for c in answer.json()["items"]]

    assert ids(q="ana") == [ana]
    assert ids(q="Ana Sil") == [ana]
    assert ids(q="+351 911 111 111") == [ana]
    assert ids(q="ANA@example.com") == [ana]
    assert ids(q="c-001") == [ana]
    assert ids(card_number="C-001") == [ana]
    assert ids(q="nobody") == []


def test_search_pages_with_a_cursor(api_client: TestClient) -> None:
    for n in range(5):
        _enrol(api_client, first_name=f"Zoe{n}")
    first = api_client.get("/api/v1/customers", params={"q": "zoe", "limit": 2}).json()
    second = api_client.get(
        "/api/v1/customers", params={"q": "zoe", "limit": 2, "cursor": first["next_cursor"]}
    ).json()
    third = api_client.get(
        "/api/v1/customers", params={"q": "zoe", "limit": 2, "cursor": second["next_cursor"]}
    ).json()
    names = [c["first_name"] for page in (first, second, third) for c in page["items"]]
    assert names == [f"Zoe{n}" for n in range(5)]
    assert third["next_cursor"] is None


def test_the_timeline_pages_newest_first_and_filters_by_type(api_client: TestClient) -> None:
    cid = _enrol(api_client)["id"]
    batch = [
        {
            "type": "visit" if n % 2 else "note",
            "source": "pos",
            "external_id": f"e{n}",
            "occurred_at": f"2026-04-{n + 1:02d}T10:00:00+00:00",
            "customer_id": cid,
            **({} if n % 2 else {"text": f"note {n}"}),
        }
        for n in range(7)
    ]
    assert api_client.post("/api/v1/events", json=batch).json()["created"] == 7

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api_client.get(f"/api/v1/customers/{cid}/timeline", params=params).json()
        seen += [e["external_id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"e{n}" for n in reversed(range(7))]

    notes = api_client.get(f"/api/v1/customers/{cid}/timeline", params={"type": "note"}).json()
    assert {e["type"] for e in notes["items"]} == {"note"}
    assert len(notes["items"]) == 4


def test_a_bad_timeline_filter_or_cursor_names_the_parameter(api_client: TestClient) -> None:
    cid = _enrol(api_client)["id"]
    bad_type = api_client.get(f"/api/v1/customers/{cid}/timeline", params={"type": "teleport"})
    bad_cursor = api_client.get(f"/api/v1/customers/{cid}/timeline", params={"cursor": "zzz"})
    assert bad_type.status_code == 422
    assert bad_type.json()["error"]["field"] == "type"
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["error"]["field"] == "cursor"


def test_a_taken_card_number_is_a_conflict_and_nothing_is_written(
    api_client: TestClient, engine: Engine
) -> None:
    _enrol(api_client, card_number="C-007")
    answer = api_client.post(
        "/api/v1/customers", json={"first_name": "Eve", "card_number": "c-007"}
    )
    assert answer.status_code == 409
    assert answer.json()["error"] == {
        "code": "conflict",
        "message": "another customer has this card number",
        "field": "card_number",
    }
    assert _count(engine) == 1


def test_impossible_dates_and_bad_phones_name_the_field(api_client: TestClient) -> None:
    answer = api_client.post(
        "/api/v1/customers",
        json={"first_name": "Eve", "birthday": "2026-04-31", "phone": "12"},
    )
    assert answer.status_code == 422
    fields = {p["field"] for p in answer.json()["error"]["problems"]}
    assert {"birthday", "phone"} <= fields


def test_malformed_json_is_a_422_naming_the_problem(api_client: TestClient) -> None:
    answer = api_client.post(
        "/api/v1/customers",
        content=b'{"first_name": ',
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 422
    assert "JSON" in answer.json()["error"]["message"]


def test_a_retried_enrolment_with_the_same_idempotency_key_creates_one_customer(
    api_client: TestClient, engine: Engine
) -> None:
    body = {"first_name": "Ana", "card_number": "C-009"}
    headers = {"Idempotency-Key": "enrol-ana-1"}
    first = api_client.post("/api/v1/customers", json=body, headers=headers)
    again = api_client.post("/api/v1/customers", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert _count(engine) == 1

    other = api_client.post("/api/v1/customers", json={"first_name": "Eve"}, headers=headers)
    assert other.status_code == 409
    assert other.json()["error"]["field"] == "Idempotency-Key"
    assert _count(engine) == 1


def test_merging_keeps_both_timelines_under_the_kept_customer(api_client: TestClient) -> None:
    keep = _enrol(api_client, card_number="C-10")["id"]
    dup = _enrol(api_client, first_name="Ana2", card_number="C-11")["id"]
    for n, cid in enumerate((keep, dup)):
        api_client.post(
            "/api/v1/events",
            json={
                "type": "visit",
                "source": "pos",
                "external_id": f"v{n}",
                "occurred_at": "2026-04-01T10:00:00+00:00",
                "customer_id": cid,
            },
        )
    answer = api_client.post(f"/api/v1/customers/{keep}/merge", json={"duplicate_id": dup})
    assert answer.status_code == 200
    timeline = api_client.get(f"/api/v1/customers/{keep}/timeline").json()["items"]
    assert {"v0", "v1"} <= {e["external_id"] for e in timeline}
    by_old_card = api_client.get("/api/v1/customers", params={"card_number": "C-11"}).json()
    assert [c["id"] for c in by_old_card["items"]] == [keep]


def test_an_unknown_customer_is_a_404_in_the_usual_shape(api_client: TestClient) -> None:
    answer = api_client.get("/api/v1/customers/999999")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_a_staff_key_sees_its_own_location_and_not_another(
    api_client: TestClient, client_for: object, runtime: Runtime
) -> None:
    ensure_location(runtime, "CAFE-LIS")
    ensure_location(runtime, "CAFE-POR")
    mine = _enrol(api_client, home_location="CAFE-LIS")["id"]
    theirs = _enrol(api_client, first_name="Otto", home_location="CAFE-POR")["id"]
    staff = client_for("staff", ["CAFE-LIS"])  # type: ignore[operator]

    assert staff.get(f"/api/v1/customers/{mine}").status_code == 200
    assert staff.get(f"/api/v1/customers/{theirs}").status_code == 404
    assert staff.patch(f"/api/v1/customers/{theirs}", json={"city": "x"}).status_code == 404
    found = staff.get("/api/v1/customers", params={"q": "otto"}).json()["items"]
    assert found == []
    moved = staff.patch(f"/api/v1/customers/{mine}", json={"home_location": "CAFE-POR"})
    assert moved.status_code == 403


def test_the_api_documents_a_customer_with_the_read_side_fields_and_nothing_else(
    api_client: TestClient,
) -> None:
    components = api_client.get("/openapi.json").json()["components"]["schemas"]
    summary = components["CustomerSummary"]["properties"]
    profile = components["CustomerProfile"]["properties"]

    assert summary["home_location"]["description"] == "Location code."
    assert profile["lifetime_spend"]["description"] == "Net spend in minor units (cents)."
    assert "search_first" not in profile and "birthday_key" not in profile
