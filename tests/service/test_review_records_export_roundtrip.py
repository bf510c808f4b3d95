"""A customer export after merges and erasures imports into another database cleanly."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from regulars.domain.access import CLI
from regulars.services import customers as service
from regulars.services.exporter import count_customers, export_customers
from regulars.services.importer import import_customers
from regulars.services.privacy import erase_customer
from regulars.services.queries import find_by_card
from regulars.store.uow import UnitOfWork
from tests import factories


def test_merged_duplicates_and_erased_customers_are_not_exported_as_customers(
    engine: Engine, now: datetime, other_db: Engine, tmp_path: Path
) -> None:
    keep = factories.customer(engine, now, first_name="Dan", card_number="K-100")
    dup = factories.customer(engine, now, first_name="Dan", card_number="D-100")
    gone = factories.customer(engine, now, first_name="Eva", card_number="E-100")
    service.merge_customers(UnitOfWork(engine), CLI, keep, dup, now=now)
    erase_customer(UnitOfWork(engine), CLI, gone, now=now, confirm=True)
    out = io.StringIO()

    written = export_customers(engine, CLI, out, now=now)

    assert written == count_customers(engine, CLI) == 1
    path = tmp_path / "customers.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    report = import_customers(other_db, CLI, path, now=now)
    assert (report.created, report.rejected) == (1, 0), report.problems
    found = find_by_card(UnitOfWork(other_db, readonly=True), CLI, "D-100")
    assert found is not None and found.card_number == "K-100"  # the old card still finds him
