"""The loyalty rules as properties: earning, reversal, spending order, tiers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from regulars.domain.earning import MemberEarning, Rates, earn_purchase, return_weight, reversal
from regulars.domain.ledger import Lot, allocate, spend_order
from regulars.domain.program import load_program
from regulars.domain.tiers import review, tier_for
from tests.loyalty_support import program_text

CAFE = load_program(program_text("cafe"))
DEALER = load_program(program_text("dealership"))
CATEGORIES = st.sampled_from(["drinks", "food", "retail", "fees", "service", "parts", "reward"])
LINES = st.lists(st.tuples(CATEGORIES, st.integers(0, 500_000)), min_size=1, max_size=8)


def _earn(program: object, lines: list[tuple[str, int]], tier: int = 0) -> int:
    rates = Rates.of(program)  # type: ignore[arg-type]
    member = MemberEarning(welcome_given=True, purchase_count=10)
    return earn_purchase(
        rates, member, lines, source="pos", local_day=date(2026, 5, 1), tier_index=tier
    ).points


def test_a_latte_earns_three_points_not_three_and_a_half() -> None:
    assert _earn(CAFE, [("drinks", 350)]) == 3


def test_fees_and_reward_lines_never_earn() -> None:
    assert _earn(CAFE, [("fees", 10_000), ("reward", 350)]) == 0


@given(LINES)
def test_points_are_never_negative_and_never_more_than_the_rules_allow(
    lines: list[tuple[str, int]],
) -> None:
    points = _earn(DEALER, lines, tier=2)
    paid = sum(net for _, net in lines)
    assert 0 <= points <= paid * 2 * 3 * 3 // 200 + 1  # rate 2 × 300 % × +50 % tier, per euro


@given(LINES, LINES)
def test_paying_more_never_earns_fewer_points(
    lines: list[tuple[str, int]], more: list[tuple[str, int]]
) -> None:
    assert _earn(CAFE, lines + more) >= _earn(CAFE, lines)


@given(st.integers(0, 10_000), st.integers(1, 10**9), st.lists(st.integers(1, 10**8), max_size=10))
def test_reversals_of_any_sequence_of_returns_add_up_to_the_points_once_all_came_back(
    points: int, basis: int, pieces: list[int]
) -> None:
    taken, returned = 0, 0
    for piece in pieces:
        taken += reversal(points, basis, returned, piece)
        returned += piece
    taken += reversal(points, basis, returned, max(0, basis - returned))
    assert taken == points


@given(
    st.lists(st.tuples(st.integers(0, 500), st.integers(0, 1000)), min_size=1, max_size=20),
    st.data(),
)
def test_spending_takes_the_lots_nearest_to_expiry_first(
    raw: list[tuple[int, int]], data: st.DataObject
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lots = [
        Lot(i, remaining, start + timedelta(days=days)) for i, (remaining, days) in enumerate(raw)
    ]
    total = sum(lot.remaining for lot in lots)
    points = data.draw(st.integers(0, total))

    plan = allocate(lots, points)

    assert sum(take for _, take in plan) == points
    order = [lot.id for lot in spend_order(lots)]
    used = [lot_id for lot_id, _ in plan]
    assert used == [lot_id for lot_id in order if lot_id in set(used)]
    # every lot before the last one used is emptied
    by_id = {lot.id: lot for lot in lots}
    for lot_id, take in plan[:-1]:
        assert take == by_id[lot_id].remaining


@given(st.integers(0, 10**7), st.integers(0, 10**7))
def test_more_spend_never_qualifies_for_a_lower_tier(a: int, b: int) -> None:
    low, high = sorted((a, b))
    levels = DEALER.tiers.levels
    assert tier_for(levels, high) >= tier_for(levels, low)


@given(
    st.integers(0, 2),
    st.integers(0, 10**7),
    st.integers(0, 10**7),
    st.one_of(st.none(), st.integers(0, 20)),
)
def test_at_a_review_higher_spend_never_yields_a_lower_tier(
    current: int, a: int, b: int, since_grace: int | None
) -> None:
    low, high = sorted((a, b))
    assert review(DEALER, current, high, since_grace).tier >= (
        review(DEALER, current, low, since_grace).tier
    )


@given(st.integers(0, 2), st.integers(0, 10**7))
def test_a_review_drops_at_most_one_tier_with_a_soft_landing(current: int, amount: int) -> None:
    assert review(DEALER, current, amount, None).tier >= current - 1


def test_grace_keeps_the_tier_once_and_not_again_until_enough_reviews_passed() -> None:
    silver = 1
    short = DEALER.tiers.levels[silver].threshold * 90 // 100

    first = review(DEALER, silver, short, None)
    second = review(DEALER, silver, short, first.reviews_since_grace)

    assert first.change == "grace" and first.tier == silver
    assert second.change == "down"


def test_grace_once_every_four_reviews_comes_back_at_the_fourth_review_not_before() -> None:
    # The café grants grace within 10 % of Gold, at most once every 4 reviews.
    gold = 1
    enough = CAFE.tiers.levels[gold].threshold
    short = enough * 95 // 100

    def reviews_until_grace_again(qualifying_reviews: int) -> str:
        outcome = review(CAFE, gold, short, None)
        assert outcome.change == "grace"
        for _ in range(qualifying_reviews):
            outcome = review(CAFE, gold, enough, outcome.reviews_since_grace)
        return review(CAFE, gold, short, outcome.reviews_since_grace).change

    assert reviews_until_grace_again(2) == "down"  # the 3rd review after the grace
    assert reviews_until_grace_again(3) == "grace"  # the 4th


def test_a_partner_return_weighs_like_the_partner_purchase() -> None:
    rates = Rates.of(DEALER)
    assert return_weight(rates, [("service", 1000)], partner=True) == 1000 * 100
    assert return_weight(rates, [("service", 1000)], partner=False) == 1000 * 300
