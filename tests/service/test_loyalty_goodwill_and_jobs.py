"""Goodwill within authority, manager approval above it; expiry, warnings and tier reviews."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from regulars.domain.access import CLI, Actor
from regulars.domain.customers import Role
from regulars.domain.errors import Conflict, Forbidden, InvalidInput
from regulars.services import customers as customer_service
from regulars.services import loyalty, privacy
from regulars.services.goodwill import approve_goodwill, decline_goodwill, grant_goodwill
from regulars.services.loyalty import merge_memberships
from regulars.services.loyalty_jobs import expire_points, review_tiers
from regulars.store.tables import audit_log, events
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.loyalty_support import (
    balance,
    cafe_member,
    entries,
    ingest,
    ledger_sums_match,
    load,
    program_text,
)

LIS = "CAFE-LIS"
BARISTA = Actor(kind="staff", id=1, role=Role.staff, name="barista")
MANAGER = Actor(kind="staff", id=2, role=Role.manager, name="manager")


def _member(engine: Engine, now: datetime, euros: int = 10, **changes: str) -> int:
    factories.location(engine, now, LIS)
    load(
        engine,
        now,
        program_text("cafe", **({"  welcome_bonus: 25": "  welcome_bonus: 0"} | changes)),
    )
    factories.staff(engine, now, "barista@example.com", role="staff", locations=[LIS])
    factories.staff(engine, now, "manager@example.com", role="manager", locations=[LIS])
    return cafe_member(engine, now, euros * 100)


def _timeline(engine: Engine, kind: str) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(events.c.payload).where(events.c.type == kind).order_by(events.c.id)
        )
        return [row.payload for row in rows]


def test_a_barista_grants_goodwill_within_their_limit_at_once_with_an_audit_entry(
    engine: Engine, now: datetime
) -> None:
    cid = _member(engine, now)

    result = grant_goodwill(UnitOfWork(engine), BARISTA, cid, 50, "Wrong milk, twice", now)

    assert result["status"] == "granted"
    assert balance(engine, cid) == (50, 10)
    assert _timeline(engine, "goodwill")[0]["reason"] == "Wrong milk, twice"
    with engine.connect() as conn:
        actions = list(conn.scalars(select(audit_log.c.action)))
    assert "goodwill.grant" in actions
    assert ledger_sums_match(engine)


def test_a_goodwill_grant_sent_twice_with_one_key_books_the_points_once(
    engine: Engine, now: datetime
) -> None:
    cid = _member(engine, now)

    first = grant_goodwill(UnitOfWork(engine), BARISTA, cid, 80, "Wrong milk", now, key="k1")
    again = grant_goodwill(UnitOfWork(engine), BARISTA, cid, 80, "Wrong milk", now, key="k1")

    assert again == first
    assert balance(engine, cid) == (80, 10)
    assert len(_timeline(engine, "goodwill")) == 1
    with pytest.raises(Conflict):
        grant_goodwill(UnitOfWork(engine), BARISTA, cid, 90, "Other thing", now, key="k1")
    assert balance(engine, cid) == (80, 10)


def test_goodwill_above_the_limit_waits_for_a_manager_and_books_only_when_approved(
    engine: Engine, now: datetime
) -> None:
    cid = _member(engine, now)

    request = grant_goodwill(UnitOfWork(engine), BARISTA, cid, 500, "Spilled on her coat", now)
    assert request["status"] == "requested"
    assert balance(engine, cid) == (0, 10)

    with pytest.raises(Forbidden):
        approve_goodwill(UnitOfWork(engine), BARISTA, request["goodwill_id"], now)
    approve_goodwill(UnitOfWork(engine), MANAGER, request["goodwill_id"], now)
    assert balance(engine, cid) == (500, 10)
    with pytest.raises(Conflict):
        approve_goodwill(UnitOfWork(engine), MANAGER, request["goodwill_id"], now)


def test_a_declined_request_books_nothing(engine: Engine, now: datetime) -> None:
    cid = _member(engine, now)
    request = grant_goodwill(UnitOfWork(engine), BARISTA, cid, 500, "Long wait", now)

    decline_goodwill(UnitOfWork(engine), MANAGER, request["goodwill_id"], now, note="not ours")

    assert balance(engine, cid) == (0, 10)
    assert entries(engine, "goodwill") == []


def test_small_goodwill_grants_add_up_to_the_limit_of_the_day_and_the_rest_waits_for_a_manager(
    engine: Engine, now: datetime
) -> None:
    cid = _member(engine, now)  # staff may grant 100 points
    other_barista = Actor(kind="staff", id=3, role=Role.staff, name="other barista")

    statuses = [
        grant_goodwill(UnitOfWork(engine), BARISTA, cid, points, "Wrong milk", now)["status"]
        for points in (60, 40, 10)
    ]

    assert statuses == ["granted", "granted", "requested"]
    assert balance(engine, cid) == (100, 10)
    other = grant_goodwill(UnitOfWork(engine), other_barista, cid, 50, "Late order", now)
    assert other["status"] == "granted"  # the limit is each person's own


def test_the_goodwill_limit_starts_afresh_at_midnight_where_the_customer_lives(
    engine: Engine, now: datetime
) -> None:
    _member(engine, now)
    cid = factories.customer(engine, now, home_location=LIS)  # Lisbon, UTC+1 in May
    late = datetime(2026, 5, 1, 22, 30, tzinfo=UTC)  # 23:30 in Lisbon, 1 May
    after_midnight = late + timedelta(hours=1)  # 00:30 in Lisbon, 2 May; still 1 May in UTC

    first = grant_goodwill(UnitOfWork(engine), BARISTA, cid, 100, "Closing rush", late)
    second = grant_goodwill(UnitOfWork(engine), BARISTA, cid, 100, "Cold cake", after_midnight)
    third = grant_goodwill(UnitOfWork(engine), BARISTA, cid, 1, "Once more", after_midnight)

    assert [first["status"], second["status"], third["status"]] == [
        "granted",
        "granted",
        "requested",
    ]


def test_goodwill_for_a_customer_merged_into_another_is_refused_and_books_nothing(
    engine: Engine, now: datetime
) -> None:
    keep = _member(engine, now)
    dup = factories.customer(engine, now, first_name="Ana (dup)")
    customer_service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)

    with pytest.raises(Conflict, match="merged"):
        grant_goodwill(UnitOfWork(engine), CLI, dup, 50, "Cold latte", now)

    assert balance(engine, dup) == (0, 0)
    assert _timeline(engine, "goodwill") == []


def test_goodwill_about_an_erased_customer_is_refused_and_its_reason_is_not_kept(
    engine: Engine, now: datetime
) -> None:
    cid = _member(engine, now)
    privacy.erase_customer(UnitOfWork(engine), CLI, cid, now=now, confirm=True)

    with pytest.raises(Conflict, match="erased"):
        grant_goodwill(UnitOfWork(engine), CLI, cid, 50, "Ana Silva, allergic to nuts", now)

    assert _timeline(engine, "goodwill") == []
    assert not any("allergic" in str(e["reason"]) for e in entries(engine))


def test_a_request_waiting_when_its_customer_is_merged_is_booked_to_the_kept_customer(
    engine: Engine, now: datetime
) -> None:
    keep = _member(engine, now)
    dup = factories.customer(engine, now, first_name="Ana (dup)")
    request = grant_goodwill(UnitOfWork(engine), BARISTA, dup, 500, "Spilled on her coat", now)
    customer_service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)

    approve_goodwill(UnitOfWork(engine), MANAGER, request["goodwill_id"], now)

    assert balance(engine, keep) == (500, 10)
    assert balance(engine, dup) == (0, 0)


def test_goodwill_never_enrols_a_customer_in_an_opt_in_program_they_did_not_join(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, "AUTO-MUC", timezone="Europe/Berlin")
    load(engine, now, program_text("dealership"))  # members opt in
    cid = factories.customer(engine, now)

    with pytest.raises(InvalidInput, match=r"not a member of .* \(opt-in\)") as refused:
        grant_goodwill(UnitOfWork(engine), CLI, cid, 50, "Car was late", now)

    assert [p.field for p in refused.value.problems] == ["program"]
    assert entries(engine) == []
    loyalty.enrol(UnitOfWork(engine), CLI, cid, "dealership", now=now)
    grant_goodwill(UnitOfWork(engine), CLI, cid, 50, "Car was late", now)
    assert balance(engine, cid, "dealership")[0] == 50


def test_pending_points_mature_after_the_return_window(engine: Engine, now: datetime) -> None:
    cid = _member(engine, now)

    expire_points(UnitOfWork(engine), CLI, now=now + timedelta(days=3))
    assert balance(engine, cid) == (0, 10)
    summary = expire_points(UnitOfWork(engine), CLI, now=now + timedelta(days=8))

    assert summary["cafe"]["matured"] == 10
    assert balance(engine, cid) == (10, 0)
    assert ledger_sums_match(engine)


def test_points_expire_a_year_after_they_were_earned_with_a_warning_first(
    engine: Engine, now: datetime
) -> None:
    cid = _member(engine, now)

    expire_points(UnitOfWork(engine), CLI, now=now + timedelta(days=340))
    expire_points(UnitOfWork(engine), CLI, now=now + timedelta(days=341))
    warnings = _timeline(engine, "points_expiring")
    assert len(warnings) == 1
    assert warnings[0]["points"] == 10
    assert warnings[0]["expires_on"] == "2027-04-30"

    summary = expire_points(UnitOfWork(engine), CLI, now=now + timedelta(days=366))
    assert summary["cafe"]["expired"] == 10
    assert balance(engine, cid) == (0, 0)
    assert ledger_sums_match(engine)


def test_a_review_drops_at_most_one_tier_and_grace_keeps_a_member_who_was_close(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, "AUTO-MUC", timezone="Europe/Berlin")
    load(engine, now, program_text("dealership"))
    cid = factories.customer(engine, now)
    loyalty.enrol(UnitOfWork(engine), CLI, cid, "dealership", now=now)
    # 5 000.00 paid: straight to Black.
    ingest(
        engine,
        now,
        factories.purchase(
            "big",
            customer_id=cid,
            location="AUTO-MUC",
            lines=[{"sku": "repair", "category": "bodywork", "unit_price": 500000}],
        ),
    )
    status = loyalty.member_status(UnitOfWork(engine), CLI, cid, now=now)[0]
    assert status["tier"]["code"] == "black"

    # Two years on, the spend has left the window: soft landing, one tier per review.
    later = now + timedelta(days=800)
    first = review_tiers(UnitOfWork(engine), CLI, now=later)
    again = review_tiers(UnitOfWork(engine), CLI, now=later)
    assert first["dealership"]["down"] == 1
    assert again["dealership"]["down"] == 0  # one review per month
    status = loyalty.member_status(UnitOfWork(engine), CLI, cid, now=later)[0]
    assert status["tier"]["code"] == "silver"
    changes = [e["change"] for e in _timeline(engine, "tier")]
    assert changes == ["enrolled", "up", "down"]


def test_grace_keeps_the_tier_once_when_the_member_fell_just_short(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, "AUTO-MUC", timezone="Europe/Berlin")
    load(engine, now, program_text("dealership"))
    cid = factories.customer(engine, now)
    loyalty.enrol(UnitOfWork(engine), CLI, cid, "dealership", now=now)
    ingest(
        engine,
        now,
        factories.purchase(
            "big",
            customer_id=cid,
            location="AUTO-MUC",
            lines=[{"sku": "repair", "category": "bodywork", "unit_price": 170000}],
        ),
    )
    ret = {
        "type": "return",
        "source": "pos",
        "external_id": "r1",
        "customer_id": cid,
        "occurred_at": now.isoformat(),
        "purchase_external_id": "big",
        "lines": [{"sku": "repair", "quantity": 1}],
    }
    ingest(
        engine,
        now,
        factories.purchase(
            "small",
            customer_id=cid,
            location="AUTO-MUC",
            lines=[{"sku": "tyres", "category": "parts", "unit_price": 140000}],
        ),
        ret,
    )

    outcome = review_tiers(UnitOfWork(engine), CLI, now=now + timedelta(days=31))

    # 1 400.00 paid is within 15 % of Silver's 1 500.00, so grace.
    assert outcome["dealership"]["grace"] == 1
    assert [e["change"] for e in _timeline(engine, "tier")][-1] == "grace"


def test_a_tier_earned_in_a_calendar_year_is_kept_through_the_next(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, LIS)
    load(
        engine,
        now,
        program_text(
            "cafe",
            **{
                "  window: rolling": "  window: calendar_year",
                "  cap_per_day: 200": "  cap_per_day: 100000",
                "  grace_percent: 10": "  grace_percent: 0",
            },
        ),
    )
    cid = factories.customer(engine, now)
    ingest(
        engine,
        now,
        factories.purchase(
            "big",
            customer_id=cid,
            location=LIS,
            lines=[{"sku": "machine", "category": "equipment", "unit_price": 25000}],
        ),
    )

    def tier_on(day: str) -> str:
        at = datetime.fromisoformat(day)
        review_tiers(UnitOfWork(engine), CLI, now=at)
        return loyalty.member_status(UnitOfWork(engine), CLI, cid, now=at)[0]["tier"]["code"]

    assert tier_on("2027-02-01T03:00:00+00:00") == "gold"
    assert tier_on("2027-12-01T03:00:00+00:00") == "gold"
    assert tier_on("2028-01-15T03:00:00+00:00") == "member"


def test_a_regular_who_spends_golds_threshold_every_twelve_months_stays_gold_at_each_review(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, LIS)
    load(engine, now, program_text("cafe", **{"  grace_percent: 10": "  grace_percent: 0"}))
    cid = factories.customer(engine, now)

    def coffee(year: int, month: int) -> None:
        at = datetime.fromisoformat(f"{year}-{month:02d}-15T10:00:00+00:00")
        line = {"sku": "coffee", "category": "drinks", "unit_price": 1700}
        ingest(
            engine,
            at,
            factories.purchase(
                f"p{year}{month}", customer_id=cid, location=LIS, at=at.isoformat(), lines=[line]
            ),
        )

    # 17.00 in each month from May 2025 to April 2026: 204.00, Gold needs 200.00.
    for year, month in [(2025, m) for m in range(5, 13)] + [(2026, m) for m in range(1, 5)]:
        coffee(year, month)

    # The review on the 1st judges the twelve months just finished, not eleven and a blank one.
    for month in (5, 6, 7):
        review_tiers(
            UnitOfWork(engine),
            CLI,
            now=datetime.fromisoformat(f"2026-{month:02d}-01T02:00:00+00:00"),
        )
        coffee(2026, month)

    status = loyalty.member_status(
        UnitOfWork(engine), CLI, cid, now=datetime.fromisoformat("2026-07-16T10:00:00+00:00")
    )[0]
    assert status["tier"]["code"] == "gold"
    assert [e["change"] for e in _timeline(engine, "tier")] == ["enrolled", "up"]


def test_merging_a_duplicate_adds_its_points_and_keeps_the_better_tier(
    engine: Engine, now: datetime
) -> None:
    keep = _member(engine, now, euros=10)
    dup = factories.customer(engine, now, first_name="Ana (dup)")
    ingest(
        engine,
        now,
        factories.purchase(
            "d1",
            customer_id=dup,
            location=LIS,
            lines=[{"sku": "cake", "category": "food", "unit_price": 2000}],
        ),
    )

    with UnitOfWork(engine) as uow:
        merge_memberships(uow.conn, keep, dup)
        uow.commit()
    customer_service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)

    assert balance(engine, keep) == (0, 10 + 20)
    assert balance(engine, dup) == (0, 0)
    assert ledger_sums_match(engine)


def test_a_manager_adjusts_a_balance_with_a_reason_but_never_below_zero(
    engine: Engine, now: datetime
) -> None:
    cid = _member(engine, now, **{"  pending_days: 7": "  pending_days: 0"})

    loyalty.adjust_points(UnitOfWork(engine), MANAGER, cid, "cafe", 40, "Lost receipt", now=now)
    loyalty.adjust_points(UnitOfWork(engine), MANAGER, cid, "cafe", -15, "Booked twice", now=now)
    with pytest.raises(InvalidInput, match="only 35 points"):
        loyalty.adjust_points(UnitOfWork(engine), MANAGER, cid, "cafe", -36, "Oops", now=now)
    with pytest.raises(Forbidden):
        loyalty.adjust_points(UnitOfWork(engine), BARISTA, cid, "cafe", 5, "Nice", now=now)

    assert balance(engine, cid) == (10 + 40 - 15, 0)
    assert [e["kind"] for e in entries(engine)][-2:] == ["adjust", "adjust"]
    assert ledger_sums_match(engine)
