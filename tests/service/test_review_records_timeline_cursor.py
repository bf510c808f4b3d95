"""A tampered timeline cursor is a 400 naming the cursor, on both databases, never a crash."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest
from sqlalchemy import Engine

from regulars.domain.access import CLI
from regulars.domain.errors import InvalidInput
from regulars.services.queries import timeline
from regulars.store.uow import UnitOfWork
from tests import factories


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    [
        "2026-04-30T10:00:00+00:00|99999999999999999999",
        "2026-04-30T10:00:00+00:00|-5",
        "2026-04-30T10:00:00+00:00|1|2",
    ],
)
def test_a_cursor_naming_an_impossible_event_is_refused_by_name(
    engine: Engine, now: datetime, raw: str
) -> None:
    customer = factories.customer(engine, now)

    with pytest.raises(InvalidInput) as refused:
        timeline(UnitOfWork(engine, readonly=True), CLI, customer, cursor=_cursor(raw))

    assert [p.field for p in refused.value.problems] == ["cursor"]
