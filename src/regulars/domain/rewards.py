"""Rewards: whether a member may have one, and why not, in words the member would accept."""

from __future__ import annotations

from regulars.domain.errors import FieldProblem
from regulars.domain.program import Program, Reward


def redemption_problem(
    program: Program,
    reward: Reward,
    *,
    tier_index: int,
    available: int,
    redeemed_before: int,
    stock_left: int | None,
) -> FieldProblem | None:
    """The first reason this member cannot redeem this reward now, or None when they can."""
    if reward.min_tier is not None and tier_index < program.tier_index(reward.min_tier):
        needed = program.tiers.levels[program.tier_index(reward.min_tier)].name
        return FieldProblem("reward", f"{reward.name} is for {needed} members and above")
    if stock_left is not None and stock_left <= 0:
        return FieldProblem("reward", f"{reward.name} is out of stock")
    if reward.per_member_limit is not None and redeemed_before >= reward.per_member_limit:
        return FieldProblem(
            "reward", f"{reward.name} can be redeemed {reward.per_member_limit} time(s) per member"
        )
    if available < reward.points:
        return FieldProblem(
            "reward",
            f"{reward.name} needs {reward.points} points; {available} are available",
        )
    return None
