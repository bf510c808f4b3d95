"""The seed stories (000, 002, 003) as tests: what the shop, the rep and the inbox notice.

(a) the optician's birthday e-mail after a visit where nobody said a word; (b) the dealer's
birthday call with a brief that knows the family; (c) no asks during an open complaint;
(d) five moments in one week and an inbox that stays clean.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from regulars.bootstrap import Runtime
from regulars.channels.fake import FakeChannel
from regulars.domain.access import CLI
from regulars.services import customers as customer_service
from regulars.services.ingest import ingest_events
from regulars.services.outbox import deliver_outbox
from regulars.services.planning import plan_day
from regulars.services.send_guard import check_send
from regulars.store.outbox_tables import outbox
from regulars.store.planner_tables import staff_tasks
from regulars.store.uow import UnitOfWork
from tests import factories

FRIDAY = date(2026, 5, 1)
SIX = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)  # 06:00 in Lisbon, when the plan runs
CONSENT = {"channel": "email", "granted": True, "at": "2025-01-01T10:00:00+00:00"}


def _events(engine: Engine, *items: dict[str, Any]) -> None:
    report = ingest_events(UnitOfWork(engine), list(items), now=SIX)
    assert report.rejected == 0, [r.as_dict() for r in report.results]


def test_a_the_optician_greets_at_the_counter_and_the_birthday_email_stays_home(
    engine: Engine, api_client: TestClient, runtime: Runtime
) -> None:
    factories.location(engine, SIX, code="OPT-LIS", kind="optician")
    helena = factories.customer(
        engine,
        SIX,
        first_name="Helena",
        email="helena@example.com",
        birthday="1975-05-01",
        card_number="OPT-0042",
        home_location="OPT-LIS",
        consents=[CONSENT],
    )
    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)

    answer = api_client.post(
        "/api/v1/check-ins",
        json={"card_number": "OPT-0042", "location": "OPT-LIS", "at": "2026-05-01T09:40:00+01:00"},
    )

    assert answer.status_code == 201, answer.text
    view = answer.json()
    assert view["birthday_today"] is True
    assert "It is Helena's birthday today" in view["prompts"][0]
    email = FakeChannel("email")
    report = deliver_outbox(
        UnitOfWork(engine),
        {"email": email},
        now=datetime(2026, 5, 1, 9, 0, tzinfo=UTC),
        worker_id="test",
    )
    assert report.suppressed == 1
    assert email.sent == []
    with engine.connect() as conn:
        row = conn.execute(select(outbox.c.status, outbox.c.customer_id)).one()
    assert (row.status, row.customer_id) == ("suppressed", helena)
    plan = api_client.get("/api/v1/plan", params={"date": "2026-05-01"}).json()
    why = plan["decisions"][0]["reasons"]
    assert "e-mail at 10:00 local" in why
    assert "at send time: in-store visit at 09:40 today → greeting moved to the counter" in why


def test_a_greeting_confirmed_at_the_counter_lets_the_email_follow(
    engine: Engine, api_client: TestClient
) -> None:
    factories.location(engine, SIX, code="OPT-LIS", kind="optician")
    cid = factories.customer(
        engine,
        SIX,
        first_name="Helena",
        email="helena@example.com",
        birthday="1975-05-01",
        card_number="OPT-0042",
        home_location="OPT-LIS",
        consents=[CONSENT],
    )
    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    checkin = api_client.post(
        "/api/v1/check-ins",
        json={"customer_id": cid, "location": "OPT-LIS", "at": "2026-05-01T09:40:00+01:00"},
    ).json()

    greeted = api_client.post(f"/api/v1/check-ins/{checkin['checkin_id']}/greeted", json={})

    assert greeted.status_code == 200, greeted.text
    with engine.connect() as conn:
        verdict = check_send(
            conn,
            customer_id=cid,
            moment="birthday",
            channel="email",
            now=datetime(2026, 5, 1, 9, 0, tzinfo=UTC),
        )
    assert verdict.action == "send"


def _dealer(engine: Engine) -> tuple[int, int]:
    factories.location(engine, SIX, code="DEAL-POR", kind="dealership", city="Porto")
    rui = factories.staff(
        engine,
        SIX,
        email="rui@example.com",
        name="Rui",
        role="rep",
        locations=["DEAL-POR"],
        daily_call_capacity=6,
    )
    joao = factories.customer(
        engine,
        SIX,
        first_name="João",
        last_name="Ferreira",
        phone="+351912345678",
        birthday="1962-05-01",
        city="Porto",
        home_location="DEAL-POR",
        owner_staff_id=rui,
    )
    uow = UnitOfWork
    customer_service.add_household_member(
        uow(engine),
        CLI,
        joao,
        {"name": "Marta", "relation": "spouse", "birthday": "1965-09-12"},
        now=SIX,
    )
    customer_service.add_asset(
        uow(engine),
        CLI,
        joao,
        {"kind": "car", "label": "VW ID.4", "model_code": "VW-ID4-2023", "member_name": "Marta"},
        now=SIX,
    )
    customer_service.set_preference(
        uow(engine),
        CLI,
        joao,
        {"label": "back for the season", "value": "mid-April, after the winter in the Algarve"},
        now=SIX,
    )
    _events(
        engine,
        factories.purchase(
            "car-2024",
            customer_id=joao,
            at="2024-03-10T11:00:00+00:00",
            lines=[{"sku": "passat", "category": "cars", "unit_price": 4_200_000}],
        ),
        {
            "type": "call",
            "source": "crm",
            "external_id": "call-2025",
            "customer_id": joao,
            "occurred_at": "2025-05-02T15:00:00+01:00",
            "emotion": "happy",
            "notes": "Talked about the grandchildren's visit; Marta wants a bigger boot.",
        },
        {
            "type": "recall",
            "source": "vw",
            "external_id": "recall-77",
            "occurred_at": "2026-04-02T08:00:00+00:00",
            "asset_model": "VW-ID4-2023",
            "title": "Rear brake hose may chafe",
        },
    )
    return rui, joao


def test_b_the_dealer_rep_gets_a_birthday_call_with_a_brief_that_knows_the_family(
    engine: Engine, api_client: TestClient
) -> None:
    rui, joao = _dealer(engine)

    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)

    with engine.connect() as conn:
        task = conn.execute(select(staff_tasks).where(staff_tasks.c.customer_id == joao)).one()
    assert (task.kind, task.assignee_staff_id, task.moment) == ("call", rui, "birthday")
    brief = api_client.get(f"/api/v1/tasks/{task.id}/brief").json()
    text = " ".join(brief["talking_points"])
    assert brief["why_now"] == ["birthday"]
    assert [p["name"] for p in brief["household"]] == ["Marta"]
    assert brief["assets"][0]["used_by"] == "Marta"
    assert brief["assets"][0]["open_recalls"] == ["Rear brake hose may chafe"]
    assert "Marta's VW ID.4 has an open recall (Rear brake hose may chafe)" in text
    assert "They live in Porto." in text
    assert "back for the season: mid-April, after the winter in the Algarve" in text
    assert "Last call (2025-05-02): outbound call, reached: Talked about the grandchildren" in text


def test_b_the_outcome_closes_the_call_and_the_notes_reach_the_timeline(
    engine: Engine, api_client: TestClient
) -> None:
    _, joao = _dealer(engine)
    plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    tasks = api_client.get("/api/v1/tasks").json()["tasks"]
    task_id = next(t["id"] for t in tasks if t["customer_id"] == joao)

    done = api_client.post(
        f"/api/v1/tasks/{task_id}/outcome",
        json={"outcome": "reached", "emotion": "happy", "notes": "Booking the recall fix."},
    )
    again = api_client.post(f"/api/v1/tasks/{task_id}/outcome", json={"outcome": "reached"})

    assert done.status_code == 200, done.text
    assert len(done.json()["events"]) == 2
    assert again.status_code == 409
    with engine.connect() as conn:
        status = conn.scalar(select(staff_tasks.c.status).where(staff_tasks.c.id == task_id))
    assert status == "done"


def _cafe_customer(engine: Engine, **extra: Any) -> int:
    factories.location(engine, SIX, code="CAFE-LIS", kind="cafe")
    fields: dict[str, Any] = {
        "first_name": "Sofia",
        "email": "sofia@example.com",
        "home_location": "CAFE-LIS",
        "consents": [CONSENT, {**CONSENT, "channel": "sms"}],
        "phone": "+351913333333",
    } | extra
    return factories.customer(engine, SIX, **fields)


def test_c_an_open_complaint_means_no_referral_ask_and_no_promotion_that_day(
    engine: Engine,
) -> None:
    sofia = _cafe_customer(engine)
    purchases = [
        factories.purchase(f"p{n}", customer_id=sofia, at=f"2026-04-{10 + n:02d}T09:00:00+01:00")
        for n in range(4)
    ]
    _events(
        engine,
        *purchases,
        factories.purchase("p5", customer_id=sofia, at="2026-04-30T09:00:00+01:00"),
        {
            "type": "ticket",
            "source": "desk",
            "external_id": "t1",
            "customer_id": sofia,
            "occurred_at": "2026-04-29T18:00:00+01:00",
            "ticket_id": "T-1",
            "subject": "Cold latte, rude answer",
        },
        {
            "type": "points_expiring",
            "source": "loyalty",
            "external_id": "x1",
            "customer_id": sofia,
            "occurred_at": "2026-04-30T02:00:00+00:00",
            "points": 400,
            "expires_on": "2026-05-31",
        },
    )

    report = plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)

    lines = {line.moment: line for line in report.lines if line.customer_id == sofia}
    assert lines["purchase_milestone"].status == "suppressed"
    assert (
        "open complaint → no referral until it is resolved" in lines["purchase_milestone"].reasons
    )
    assert lines["points_expiring"].status == "suppressed"
    assert "open complaint → no promotion" in lines["points_expiring"].reasons
    with engine.connect() as conn:
        assert conn.execute(select(outbox)).all() == []
        assert conn.execute(select(staff_tasks)).all() == []


def test_d_five_moments_in_one_week_reach_the_inbox_at_most_twice_most_important_first(
    engine: Engine,
) -> None:
    sofia = _cafe_customer(engine, birthday="1990-05-01")
    _events(
        engine,
        factories.purchase("first", customer_id=sofia, at="2026-04-30T09:00:00+01:00"),
        *[
            {
                "type": "points_expiring",
                "source": "loyalty",
                "external_id": f"x{n}",
                "customer_id": sofia,
                "occurred_at": "2026-04-30T02:00:00+00:00",
                "points": 100 * (n + 1),
                "expires_on": f"2026-05-{10 + n}",
            }
            for n in range(2)
        ],
        {
            "type": "tier",
            "source": "loyalty",
            "external_id": "up1",
            "customer_id": sofia,
            "occurred_at": "2026-04-30T02:00:00+00:00",
            "change": "up",
            "tier_to": "gold",
        },
    )

    friday = plan_day(UnitOfWork(engine), day=FRIDAY, now=SIX)
    _events(
        engine,
        {
            "type": "tier",
            "source": "loyalty",
            "external_id": "up2",
            "customer_id": sofia,
            "occurred_at": "2026-05-03T02:00:00+00:00",
            "change": "up",
            "tier_to": "platinum",
        },
    )
    monday = plan_day(UnitOfWork(engine), day=date(2026, 5, 4), now=SIX + timedelta(days=3))

    sent = [line.moment for line in friday.lines if line.status == "planned"]
    assert sent == ["birthday", "first_purchase"]
    skipped = [line for line in friday.lines if line.status == "skipped"]
    assert {line.moment for line in skipped} == {"tier_up", "points_expiring"}
    assert all("contact cap: already 2 automated messages this week" in s.reasons for s in skipped)
    assert [line.status for line in monday.lines] == ["skipped"]
    with engine.connect() as conn:
        assert len(conn.execute(select(outbox)).all()) == 2
