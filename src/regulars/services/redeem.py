"""``redeem``: a member spends points on a reward; never more than they have.

The member's balance row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` already serialises writers) before the balance is checked, so twenty
simultaneous redemptions against one balance queue up and the ones that no longer fit are
refused. Stock is taken with a guarded ``UPDATE … WHERE stock_left > 0``. Points due to
mature are booked first, so the member can spend everything the status page shows, and
points past their expiry are expired first, so they cannot be spent before the nightly job
has run.
Retries are made safe by the API's Idempotency-Key (``web.deps.idempotent``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from regulars.domain.access import Actor
from regulars.domain.errors import FieldProblem, InvalidInput
from regulars.domain.rewards import redemption_problem
from regulars.services.access import access_live_customer, require, require_location
from regulars.services.loyalty_book import Book, current_programs, load_members, settle
from regulars.store import audit
from regulars.store.ids import insert_one
from regulars.store.loyalty_tables import (
    loyalty_ledger,
    loyalty_members,
    loyalty_redemptions,
    loyalty_rewards,
)
from regulars.store.tables import locations
from regulars.store.uow import UnitOfWork


def redeem(
    uow: UnitOfWork,
    actor: Actor,
    customer_id: int,
    reward_code: str,
    *,
    now: datetime,
    program: str | None = None,
    location: str | None = None,
) -> dict[str, Any]:
    """Spend a member's points on a reward; InvalidInput (nothing written) when they can't.

    ``location`` is the code of the shop where the reward is handed over, kept on the
    redemption so each location can see what it gave out; staff may name only their own.
    """
    require(actor, "loyalty:write")
    with uow:
        conn = uow.conn
        access_live_customer(conn, actor, customer_id)
        location_id: int | None = None
        if location is not None:
            location_id = conn.scalar(select(locations.c.id).where(locations.c.code == location))
            if location_id is None:
                raise InvalidInput([FieldProblem("location", f"unknown location {location!r}")])
            require_location(actor, location_id)
        programs = current_programs(conn)
        candidates = [
            lp
            for code, lp in sorted(programs.items())
            if (program is None or code == program) and lp.program.reward(reward_code)
        ]
        if program is not None and program not in programs:
            raise InvalidInput([FieldProblem("program", f"no program {program!r} is loaded")])
        if not candidates:
            raise InvalidInput([FieldProblem("reward", f"no reward {reward_code!r}")])
        if len(candidates) > 1:  # several programs offer it: one the customer belongs to
            m = loyalty_members.c
            joined = set(
                conn.scalars(
                    select(m.program).where(
                        m.customer_id == customer_id,
                        m.program.in_([c.code for c in candidates]),
                    )
                )
            )
            candidates.sort(key=lambda c: c.code not in joined)
        lp = candidates[0]
        reward = lp.program.reward(reward_code)
        assert reward is not None  # noqa: S101 - candidates only holds programs that have it
        member = load_members(conn, lp.code, [customer_id], lock=True).get(customer_id)
        if member is None:
            raise InvalidInput([FieldProblem("customer_id", f"not a member of {lp.program.name}")])
        book = Book(conn, now, actor.label)
        settle(book, lp.program, member, now)  # due points in, expired ones out
        redeemed_before = int(
            conn.scalar(
                select(func.count()).where(
                    loyalty_redemptions.c.member_id == member.id,
                    loyalty_redemptions.c.reward == reward.code,
                )
            )
            or 0
        )
        stock_left = conn.scalar(
            select(loyalty_rewards.c.stock_left).where(
                loyalty_rewards.c.program == lp.code, loyalty_rewards.c.code == reward.code
            )
        )
        problem = redemption_problem(
            lp.program,
            reward,
            tier_index=lp.program.tier_index(member.tier),
            available=member.available,
            redeemed_before=redeemed_before,
            stock_left=stock_left,
        )
        if problem is not None:
            raise InvalidInput([problem])
        if stock_left is not None:
            taken = conn.execute(
                update(loyalty_rewards)
                .where(
                    loyalty_rewards.c.program == lp.code,
                    loyalty_rewards.c.code == reward.code,
                    loyalty_rewards.c.stock_left > 0,
                )
                .values(
                    stock_left=loyalty_rewards.c.stock_left - 1,
                    redeemed=loyalty_rewards.c.redeemed + 1,
                )
            )
            if taken.rowcount != 1:
                raise InvalidInput([FieldProblem("reward", f"{reward.name} is out of stock")])
        else:
            conn.execute(
                update(loyalty_rewards)
                .where(loyalty_rewards.c.program == lp.code, loyalty_rewards.c.code == reward.code)
                .values(redeemed=loyalty_rewards.c.redeemed + 1)
            )
        spent = book.spend(
            member,
            "redeem",
            reward.points,
            at=now,
            reason=f"redeemed {reward.name}",
            event_id=None,
        )
        if spent != reward.points:  # the check above makes this unreachable; never overdraw
            raise InvalidInput([FieldProblem("reward", "not enough points")])
        member.last_activity_at = now
        book.flush()
        c = loyalty_ledger.c
        entry_id = conn.scalar(
            select(func.max(c.id)).where(c.member_id == member.id, c.kind == "redeem")
        )
        redemption_id = insert_one(
            conn,
            loyalty_redemptions,
            {
                "member_id": member.id,
                "customer_id": customer_id,
                "program": lp.code,
                "reward": reward.code,
                "points": reward.points,
                "value": reward.value,
                "at": now,
                "actor": actor.label,
                "entry_id": int(entry_id or 0),
                "location_id": location_id,
            },
        )
        answer = {
            "redemption_id": redemption_id,
            "program": lp.code,
            "reward": reward.code,
            "reward_name": reward.name,
            "points": reward.points,
            "value": reward.value,
            "currency": lp.program.currency,
            "available_points": member.available,
            "location": location,
        }
        audit.record(
            conn,
            at=now,
            actor=actor.label,
            action="loyalty.redeem",
            entity="customer",
            entity_id=customer_id,
            after=answer,
        )
        uow.commit()
    return answer


__all__ = ["redeem"]
