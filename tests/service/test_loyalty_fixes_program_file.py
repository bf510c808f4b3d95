"""A program file that cannot work is refused when loaded, not at the next purchase."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine

from regulars.domain.errors import InvalidInput
from tests import factories
from tests.loyalty_support import balance, ingest, load, program_text


def test_a_program_with_a_misspelt_time_zone_is_not_loaded_and_purchases_still_ingest(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now, "CAFE-LIS")
    cid = factories.customer(engine, now)

    with pytest.raises(InvalidInput, match="timezone"):
        load(
            engine,
            now,
            program_text("cafe", **{"timezone: Europe/Lisbon": "timezone: Europe/Lisbn"}),
        )
    report = ingest(engine, now, factories.purchase("p1", customer_id=cid, location="CAFE-LIS"))

    assert report.created == 1
    assert balance(engine, cid) == (0, 0)  # no program in force: nothing earned, nothing broken
