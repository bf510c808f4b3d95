"""Ingest: every item gets a verdict; valid ones land once, bad ones write nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from regulars.services.ingest import ingest_events
from regulars.store.tables import customers, events
from regulars.store.uow import UnitOfWork
from tests import factories


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(events)) or 0)


def test_a_batch_reports_created_duplicate_and_rejected_per_item(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    cid = factories.customer(engine, now, card_number="C-100")
    batch = [
        factories.purchase("p1", customer_id=cid, location="CAFE-LIS"),
        factories.purchase("p1", customer_id=cid),
        factories.purchase("p2", card_number="c-100"),
        factories.purchase("p3", customer_id=cid + 999),
        {"type": "teleport", "source": "pos", "external_id": "x"},
    ]

    report = ingest_events(UnitOfWork(engine), batch, now=now)

    assert [r.status for r in report.results] == [
        "created",
        "duplicate",
        "created",
        "rejected",
        "rejected",
    ]
    assert report.results[3].errors[0].field == "customer_id"
    assert report.results[4].errors[0].field == "type"
    assert _count(engine) == 2


def test_ingesting_the_same_batch_again_changes_nothing(engine: Engine, now: datetime) -> None:
    cid = factories.customer(engine, now)
    batch = [factories.purchase(f"p{i}", customer_id=cid) for i in range(5)]
    ingest_events(UnitOfWork(engine), batch, now=now)
    with engine.connect() as conn:
        spend_before = conn.scalar(select(customers.c.lifetime_spend))

    again = ingest_events(UnitOfWork(engine), batch, now=now)

    assert again.duplicates == 5
    assert _count(engine) == 5
    with engine.connect() as conn:
        assert conn.scalar(select(customers.c.lifetime_spend)) == spend_before == 5 * 350


def test_naive_timestamps_and_impossible_dates_are_refused_by_field(
    engine: Engine, now: datetime
) -> None:
    cid = factories.customer(engine, now)
    batch = [
        factories.purchase("naive", customer_id=cid, at="2026-04-30T10:00:00"),
        factories.purchase("april31", customer_id=cid, at="2026-04-31T10:00:00+00:00"),
        factories.purchase(
            "neg", customer_id=cid, lines=[{"sku": "x", "unit_price": 100, "quantity": -2}]
        ),
    ]

    report = ingest_events(UnitOfWork(engine), batch, now=now)

    fields = [r.errors[0].field for r in report.results]
    assert fields == ["occurred_at", "occurred_at", "lines.0.quantity"]
    assert _count(engine) == 0


def test_a_return_gives_back_what_was_paid_and_no_more_than_was_bought(
    engine: Engine, now: datetime
) -> None:
    cid = factories.lens_buyer(engine, now)

    def give_back(external_id: str, quantity: int) -> str:
        ret = factories.purchase_return(
            external_id, lines=[{"sku": "lens", "quantity": quantity}], customer_id=cid
        )
        return ingest_events(UnitOfWork(engine), [ret], now=now).results[0].status

    assert give_back("r1", 1) == "created"
    assert give_back("r2", 3) == "rejected"
    assert give_back("r3", 2) == "created"
    with engine.connect() as conn:
        assert conn.scalar(select(customers.c.lifetime_spend)) == 0


def test_a_boolean_a_float_or_a_string_where_an_integer_is_due_is_refused_by_name(
    engine: Engine, now: datetime
) -> None:
    """``true`` for a customer would have meant customer 1, ``2.0`` units two, ``"350"``
    a price parsed from text: each is a bug at the till, named rather than guessed."""
    cid = factories.customer(engine, now)
    latte = {"sku": "latte", "unit_price": 350}
    batch = [
        factories.purchase("bool", customer_id=True, lines=[latte]),
        factories.purchase("float", customer_id=cid, lines=[latte | {"quantity": 2.0}]),
        factories.purchase("text", customer_id=cid, lines=[latte | {"unit_price": "350"}]),
        factories.purchase("fine", customer_id=cid, lines=[latte | {"quantity": 2}]),
    ]

    report = ingest_events(UnitOfWork(engine), batch, now=now)

    assert [r.status for r in report.results] == ["rejected"] * 3 + ["created"]
    assert [r.errors[0].field for r in report.results[:3]] == [
        "customer_id",
        "lines.0.quantity",
        "lines.0.unit_price",
    ]
    assert _count(engine) == 1


def test_a_duplicate_names_the_event_it_repeats(engine: Engine, now: datetime) -> None:
    """A till retrying after a timeout learns the id the first attempt got."""
    cid = factories.customer(engine, now)
    first = ingest_events(UnitOfWork(engine), [factories.purchase("p1", customer_id=cid)], now=now)

    again = ingest_events(
        UnitOfWork(engine),
        [
            factories.purchase("p1", customer_id=cid),
            factories.purchase("p2", customer_id=cid),
            factories.purchase("p2", customer_id=cid),
        ],
        now=now,
    )

    stored = first.results[0].event_id
    assert [(r.status, r.event_id) for r in again.results] == [
        ("duplicate", stored),
        ("created", again.results[1].event_id),
        ("duplicate", again.results[1].event_id),
    ]
    assert again.results[1].event_id is not None
