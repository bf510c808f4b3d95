"""Concurrent redemptions never overdraw: many tills, one balance, each on its own connection."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import Engine, func, select

from regulars.domain.access import CLI
from regulars.domain.errors import InvalidInput
from regulars.services.redeem import redeem
from regulars.store.loyalty_tables import loyalty_redemptions
from regulars.store.uow import UnitOfWork
from tests.loyalty_support import balance, cafe_member, ledger_sums_match, open_cafe

PARALLEL = 24


def test_two_dozen_simultaneous_redemptions_spend_only_what_the_balance_holds(
    engine: Engine, now: datetime
) -> None:
    open_cafe(engine, now)
    cid = cafe_member(engine, now, 18000)
    assert balance(engine, cid) == (180, 0)  # room for five drinks at 35, or seven pastries

    start = threading.Barrier(PARALLEL)
    outcomes: list[str] = []
    lock = threading.Lock()

    def till(reward: str) -> None:
        start.wait()
        try:
            redeem(UnitOfWork(engine), CLI, cid, reward, now=now)
            result = reward
        except InvalidInput as error:
            result = error.problems[0].field
        with lock:
            outcomes.append(result)

    # Two rewards, so that the tills do not also queue on one reward's stock row.
    rewards = ["free-drink", "pastry"] * (PARALLEL // 2)
    threads = [threading.Thread(target=till, args=(reward,)) for reward in rewards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    spent = 35 * outcomes.count("free-drink") + 25 * outcomes.count("pastry")
    refused = outcomes.count("reward")
    assert len(outcomes) == PARALLEL
    assert refused > 0
    assert spent <= 180
    assert balance(engine, cid) == (180 - spent, 0)
    assert 180 - spent < 35  # nobody was refused while a drink still fitted
    assert ledger_sums_match(engine)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(loyalty_redemptions)) == (
            PARALLEL - refused
        )
