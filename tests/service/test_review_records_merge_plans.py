"""Merging duplicates: the plans, calls and messages made for the duplicate follow the person."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine, insert, select

from regulars.domain.access import CLI
from regulars.services import customers as service
from regulars.services.tasks import my_tasks
from regulars.store.moment_queries import decided
from regulars.store.outbox_tables import outbox
from regulars.store.planner_tables import plan_decisions, staff_tasks
from regulars.store.uow import UnitOfWork
from tests import factories

DAY = date(2026, 5, 1)


def _planned_for_both(engine: Engine, now: datetime) -> tuple[int, int]:
    """Dan's birthday was planned on both profiles before anyone noticed he was enrolled twice."""
    keep = factories.customer(engine, now, first_name="Dan", card_number="K-100")
    dup = factories.customer(engine, now, first_name="Dan", card_number="D-100")
    plans = ((keep, "2026", "card"), (dup, "2026", "email"), (dup, "2027", "call"))
    with engine.begin() as conn:
        for cid, occasion, touch in plans:
            decision = conn.execute(
                insert(plan_decisions)
                .values(
                    customer_id=cid,
                    moment="birthday",
                    occasion=occasion,
                    plan_date=DAY,
                    status="planned",
                    touch=touch,
                    purpose="relationship",
                    priority=50,
                    reasons=[],
                    created_at=now,
                )
                .returning(plan_decisions.c.id)
            ).scalar_one()
            if touch == "call":
                conn.execute(
                    insert(staff_tasks).values(
                        decision_id=decision,
                        customer_id=cid,
                        kind="call",
                        moment="birthday",
                        due_on=DAY,
                        summary="Birthday call",
                        created_at=now,
                    )
                )
        for key, status in (("birthday:dup:2026", "sent"), ("anniversary:dup:2026", "queued")):
            conn.execute(
                insert(outbox).values(
                    key=key,
                    customer_id=dup,
                    channel="email",
                    moment=key.split(":")[0],
                    template=key.split(":")[0],
                    context={},
                    status=status,
                    send_after=now,
                    next_attempt_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
    return keep, dup


def test_the_duplicates_plans_tasks_and_messages_belong_to_the_kept_customer_after_a_merge(
    engine: Engine, now: datetime
) -> None:
    keep, dup = _planned_for_both(engine, now)

    service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)

    with engine.connect() as conn:
        keys = decided(conn, [keep], DAY).keys
        sent_to = {
            str(s): int(c) for s, c in conn.execute(select(outbox.c.status, outbox.c.customer_id))
        }
    # Next year's birthday is already planned for him: the planner will not plan it again.
    assert {(keep, "birthday", "2026"), (keep, "birthday", "2027")} <= keys
    # The e-mail already sent counts against his contact pressure; the one still waiting
    # stays on the merged profile, where the send guard suppresses it.
    assert sent_to == {"sent": keep, "queued": dup}
    queue = my_tasks(UnitOfWork(engine, readonly=True), CLI, today=DAY)
    assert [(t["customer_id"], t["summary"]) for t in queue] == [(keep, "Birthday call")]
