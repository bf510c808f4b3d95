"""Goodwill imported from another system never enrols anyone in an opt-in program."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from regulars.store.loyalty_tables import loyalty_members
from tests import factories
from tests.loyalty_support import ingest, ledger_sums_match, load, program_text


def test_imported_goodwill_for_someone_who_never_joined_the_opt_in_program_enrols_nobody(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, "AUTO-MUC", timezone="Europe/Berlin")
    load(engine, now, program_text("dealership"))
    cid = factories.customer(engine, now)

    report = ingest(
        engine,
        now,
        {
            "type": "goodwill",
            "source": "helpdesk",
            "external_id": "gw-1",
            "customer_id": cid,
            "location": "AUTO-MUC",
            "occurred_at": "2026-04-30T10:00:00+02:00",
            "points": 500,
            "reason": "Courtesy car was late",
        },
    )

    assert report.created == 1  # on the timeline, as what happened
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(loyalty_members)) == 0
    assert ledger_sums_match(engine)
