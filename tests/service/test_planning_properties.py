"""Properties of a week of plans over random customers: caps hold, re-planning is a no-op."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from regulars.services.ingest import ingest_events
from regulars.services.planning import plan_day
from regulars.store.db import make_engine
from regulars.store.outbox_tables import outbox
from regulars.store.planner_tables import plan_decisions
from regulars.store.schema import metadata
from regulars.store.uow import UnitOfWork
from tests import factories

START = date(2026, 5, 4)  # a Monday
SIX = datetime(2026, 5, 4, 5, 0, tzinfo=UTC)
CONSENTS = [
    {"channel": "email", "granted": True, "at": "2025-01-01T10:00:00+00:00"},
    {"channel": "sms", "granted": True, "at": "2025-01-01T10:00:00+00:00"},
]

event_kinds = st.sampled_from(["points", "tier", "purchase"])
customer = st.fixed_dictionaries(
    {
        "birthday_offset": st.integers(min_value=0, max_value=9),
        "events": st.lists(
            st.tuples(event_kinds, st.integers(min_value=0, max_value=6)), max_size=6
        ),
    }
)


def _event(n: int, cid: int, kind: str, offset: int) -> dict[str, Any]:
    at = (datetime(2026, 5, 3, 12, 0, tzinfo=UTC) + timedelta(days=offset)).isoformat()
    base = {"source": "prop", "external_id": f"e{cid}-{n}", "customer_id": cid, "occurred_at": at}
    if kind == "points":
        return {
            **base,
            "type": "points_expiring",
            "points": 100 + n,
            "expires_on": f"2026-06-{n + 1:02d}",
        }
    if kind == "tier":
        return {**base, "type": "tier", "change": "up", "tier_to": "gold"}
    return factories.purchase(f"p{cid}-{n}", customer_id=cid, at=at)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people=st.lists(customer, min_size=1, max_size=5))
def test_a_week_of_plans_never_breaks_the_caps_and_replanning_changes_nothing(
    people: list[dict[str, Any]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'p.db'}")
        metadata.create_all(engine)
        factories.location(engine, SIX, code="CAFE-LIS", kind="cafe")
        items: list[dict[str, Any]] = []
        for n, person in enumerate(people):
            birthday = START + timedelta(days=person["birthday_offset"])
            cid = factories.customer(
                engine,
                SIX,
                first_name=f"P{n}",
                email=f"p{n}@example.com",
                phone=f"+35191200000{n}",
                birthday=birthday.replace(year=1990).isoformat(),
                home_location="CAFE-LIS",
                consents=CONSENTS,
            )
            items += [_event(k, cid, kind, day) for k, (kind, day) in enumerate(person["events"])]
        ingest_events(UnitOfWork(engine), items, now=SIX)

        for offset in range(7):
            day = START + timedelta(days=offset)
            now = SIX + timedelta(days=offset)
            plan_day(UnitOfWork(engine), day=day, now=now)
            again = plan_day(UnitOfWork(engine), day=day, now=now)
            assert again.lines == []

        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    plan_decisions.c.customer_id,
                    plan_decisions.c.plan_date,
                    plan_decisions.c.purpose,
                ).select_from(
                    plan_decisions.join(outbox, outbox.c.decision_id == plan_decisions.c.id)
                )
            ).all()
            keys = conn.execute(
                select(
                    plan_decisions.c.customer_id, plan_decisions.c.moment, plan_decisions.c.occasion
                )
            ).all()
        engine.dispose()
    assert len(keys) == len(set(keys))
    for cid in {r.customer_id for r in rows}:
        for offset in range(7):
            end = START + timedelta(days=offset)
            week = [
                r
                for r in rows
                if r.customer_id == cid
                and end - timedelta(days=6) <= r.plan_date <= end
                and r.purpose != "transactional"
            ]
            assert len(week) <= 2
            assert sum(1 for r in week if r.purpose in ("promotion", "referral", "upsell")) <= 1
