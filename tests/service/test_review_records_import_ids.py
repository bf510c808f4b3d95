"""An id too large for any database is a rejected row naming its column, not a failed import."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI
from regulars.services.importer import import_events
from regulars.store.tables import events
from tests import factories

HUGE = "99999999999999999999"


def test_an_id_beyond_any_database_rejects_its_row_and_the_good_rows_land(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    customer = factories.customer(engine, now, card_number="C-0001")
    path = tmp_path / "events.csv"
    path.write_text(
        "type,external_id,occurred_at,customer_id,staff_id\n"
        f"visit,v1,2026-04-01T10:00:00+00:00,{HUGE},\n"
        f"visit,v2,2026-04-01T10:00:00+00:00,{customer},{HUGE}\n"
        f"visit,v3,2026-04-01T10:00:00+00:00,{customer},\n",
        encoding="utf-8",
    )

    report = import_events(engine, CLI, path, now=now)

    assert (report.created, report.rejected) == (1, 2)
    assert [(p.line, p.column) for p in report.problems] == [(2, "customer_id"), (3, "staff_id")]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(events)) == 1
