"""The counter after a merge: an old card or id still reaches the customer who was kept."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, select

from regulars.domain.access import CLI
from regulars.domain.errors import Conflict
from regulars.services.checkin import check_in
from regulars.services.customers import merge_customers
from regulars.services.ingest import ingest_events
from regulars.store.tables import events
from regulars.store.uow import UnitOfWork
from tests import factories


def _merged_pair(engine: Engine, now: datetime) -> tuple[int, int]:
    factories.location(engine, now, code="CAFE-LIS")
    keep = factories.customer(engine, now, card_number="FF-0001", home_location="CAFE-LIS")
    dup = factories.customer(engine, now, card_number="FF-0002", home_location="CAFE-LIS")
    merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)
    return keep, dup


def test_the_old_card_of_a_merged_duplicate_checks_in_the_kept_customer(
    engine: Engine, now: datetime
) -> None:
    keep, _ = _merged_pair(engine, now)

    view = check_in(
        UnitOfWork(engine), CLI, {"card_number": "FF-0002", "location": "CAFE-LIS"}, now=now
    )

    assert view["customer_id"] == keep


def test_the_old_id_checks_in_the_last_customer_of_a_chain_of_merges(
    engine: Engine, now: datetime
) -> None:
    keep, dup = _merged_pair(engine, now)
    last = factories.customer(engine, now, card_number="FF-0003", home_location="CAFE-LIS")
    merge_customers(UnitOfWork(engine), CLI, last, keep, now=now)

    view = check_in(UnitOfWork(engine), CLI, {"customer_id": dup, "location": "CAFE-LIS"}, now=now)

    assert view["customer_id"] == last


def test_a_merged_duplicates_old_card_cannot_be_given_to_a_new_customer(
    engine: Engine, now: datetime
) -> None:
    """Else every purchase on the old card would go to the newcomer, points and all."""
    keep, _ = _merged_pair(engine, now)

    with pytest.raises(Conflict) as refused:
        factories.customer(engine, now, first_name="New", card_number="FF-0002")

    assert refused.value.field == "card_number"
    ingest_events(UnitOfWork(engine), [factories.purchase("p2", card_number="FF-0002")], now=now)
    with engine.connect() as conn:
        owner = conn.scalar(select(events.c.customer_id).where(events.c.external_id == "p2"))
    assert owner == keep
