"""Two managers press "send again" on the same dead message at once (PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import Engine, select, update

from regulars.domain.access import CLI
from regulars.domain.errors import Conflict
from regulars.services.outbox import requeue_message
from regulars.store.outbox_tables import outbox
from regulars.store.uow import UnitOfWork
from tests import factories
from tests.delivery_data import queue_tier_up


def _dead_message(engine: Engine, now: datetime) -> str:
    factories.location(engine, now)
    cid = factories.customer(engine, now, email="ana@example.com", home_location="CAFE-LIS")
    with UnitOfWork(engine) as uow:
        queue_tier_up(uow.conn, cid, now, "tier:ana")
        uow.conn.execute(update(outbox).values(status="dead", attempts=6))
        uow.commit()
    return "tier:ana"


# SQLite runs one writer at a time, so the race can only happen on PostgreSQL.
@pytest.mark.parametrize(
    "engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_second_send_again_never_resets_a_message_a_worker_is_already_sending(
    engine: Engine, now: datetime
) -> None:
    key = _dead_message(engine, now)
    outcome: list[BaseException | None] = []

    def second_manager() -> None:
        try:
            requeue_message(UnitOfWork(engine), CLI, key, now=now)
            outcome.append(None)
        except BaseException as error:  # reported to the test below
            outcome.append(error)

    with engine.connect() as first:
        # The first manager's requeue and a worker's claim, as one transaction still open:
        # the second manager has already read "dead" when it commits.
        first.execute(select(outbox.c.id).where(outbox.c.key == key).with_for_update())
        racer = threading.Thread(target=second_manager)
        racer.start()
        time.sleep(0.5)
        first.execute(
            update(outbox)
            .where(outbox.c.key == key)
            .values(status="sending", claimed_by="w9", attempts=1)
        )
        first.commit()
        racer.join(timeout=10)

    with engine.connect() as conn:
        row = conn.execute(select(outbox.c.status, outbox.c.claimed_by, outbox.c.attempts)).one()
    assert tuple(row) == ("sending", "w9", 1)
    [error] = outcome
    assert isinstance(error, Conflict)
