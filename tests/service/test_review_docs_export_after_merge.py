"""A data access request after a merge: the export's profile is the customer asked about."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from regulars.domain.access import CLI
from regulars.services import customers as customer_service
from regulars.services.privacy import export_customer
from regulars.store.uow import UnitOfWork
from tests import factories


def test_the_export_of_a_kept_customer_shows_their_own_profile_when_an_older_one_was_merged_in(
    engine: Engine, now: datetime
) -> None:
    older = factories.customer(engine, now, first_name="Valentina", card_number="C-OLD-1")
    kept = factories.customer(engine, now, first_name="Angela", card_number="C-NEW-2")
    customer_service.merge_customers(UnitOfWork(engine), CLI, kept, older, now=now)

    document = export_customer(UnitOfWork(engine), CLI, kept, now=now)

    assert document["profile"]["id"] == kept
    assert document["profile"]["first_name"] == "Angela"
    assert [p["id"] for p in document["merged_profiles"]] == [older]
