"""Events: typed, strict about time zones and money, and returns that add up to the cent."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from regulars.domain.errors import FieldProblem
from regulars.domain.events import Purchase, Return, parse_event, payload_of
from regulars.domain.returns import ReturnSettlement, settle_return

AT = "2026-04-30T10:00:00+01:00"


def _purchase(lines: list[dict[str, object]]) -> Purchase:
    event = parse_event(
        {
            "type": "purchase",
            "source": "pos",
            "external_id": "p",
            "occurred_at": AT,
            "customer_id": 1,
            "lines": lines,
        }
    )
    assert isinstance(event, Purchase)
    return event


def test_a_purchase_is_worth_what_was_paid_after_discounts() -> None:
    purchase = _purchase(
        [
            {"sku": "frame", "unit_price": 12_000, "discount": 2_000},
            {"sku": "lens", "unit_price": 4_500, "quantity": 2},
        ]
    )
    assert purchase.net_total == 10_000 + 9_000
    assert purchase.discounted


def test_an_unknown_event_type_is_named_with_the_types_that_exist() -> None:
    problems = parse_event({"type": "teleport", "source": "pos", "external_id": "1"})
    assert isinstance(problems, list)
    assert problems[0].field == "type"
    assert "purchase" in problems[0].message


def test_problems_point_at_the_field_inside_the_line_without_the_type_tag() -> None:
    problems = parse_event(
        {
            "type": "purchase",
            "source": "pos",
            "external_id": "1",
            "occurred_at": AT,
            "customer_id": 1,
            "lines": [{"sku": "x", "unit_price": 100, "discount": 500}],
        }
    )
    assert problems == [FieldProblem("lines.0", "discount is larger than quantity × unit_price")]


def test_an_event_must_name_exactly_one_customer_unless_it_concerns_the_business() -> None:
    base = {"source": "pos", "external_id": "1", "occurred_at": AT}
    both = parse_event({**base, "type": "visit", "customer_id": 1, "card_number": "C1"})
    none = parse_event({**base, "type": "visit"})
    recall = parse_event(
        {**base, "type": "recall", "asset_model": "VW-ID4-2023", "title": "Battery module check"}
    )
    assert isinstance(both, list) and "not both" in both[0].message
    assert isinstance(none, list) and "required" in none[0].message
    assert not isinstance(recall, list)


def test_the_stored_payload_is_the_event_without_its_envelope() -> None:
    purchase = _purchase([{"sku": "latte", "unit_price": 350}])
    payload = payload_of(purchase)
    assert set(payload) == {"lines", "channel", "currency"}
    assert payload["lines"][0]["sku"] == "latte"


lines_strategy = st.lists(
    st.tuples(st.integers(1, 9), st.integers(0, 50_000), st.integers(0, 100)),
    min_size=1,
    max_size=4,
)


@given(lines_strategy, st.data())
def test_returning_every_unit_in_any_order_gives_back_exactly_the_net_paid(
    spec: list[tuple[int, int, int]], data: st.DataObject
) -> None:
    lines = [
        {"sku": f"sku{i}", "quantity": q, "unit_price": p, "discount": (q * p * d) // 100}
        for i, (q, p, d) in enumerate(spec)
    ]
    purchase = _purchase(lines)
    remaining = {f"sku{i}": q for i, (q, _, _) in enumerate(spec)}
    returned: dict[str, int] = {}
    refunded = 0
    while any(remaining.values()):
        sku = data.draw(st.sampled_from(sorted(s for s, n in remaining.items() if n)))
        units = data.draw(st.integers(1, remaining[sku]))
        ret = Return(
            source="pos",
            external_id="r",
            occurred_at=datetime(2026, 5, 1, tzinfo=UTC),
            customer_id=1,
            purchase_external_id="p",
            lines=[{"sku": sku, "quantity": units}],
        )
        outcome = settle_return(purchase, returned, ret)
        assert isinstance(outcome, ReturnSettlement)
        refunded += outcome.refund
        returned[sku] = returned.get(sku, 0) + units
        remaining[sku] -= units
    assert refunded == purchase.net_total
