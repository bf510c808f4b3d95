"""The per-address sign-in limit holds when wrong passwords for many e-mails arrive at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import Engine

from regulars.services import accounts
from regulars.store.uow import UnitOfWork
from tests import factories


def test_parallel_wrong_passwords_for_different_emails_from_one_address_stop_at_the_limit(
    engine: Engine, now: datetime
) -> None:
    factories.location(engine, now)
    tries = accounts.MAX_FAILURES_PER_IP + 10
    start = threading.Barrier(tries)

    def guess(n: int) -> str:
        start.wait()
        try:
            accounts.log_in(
                UnitOfWork(engine), f"guess{n}@example.com", "nope", ip="10.9.9.9", now=now
            )
        except accounts.TooManyAttempts:
            return "refused"
        except accounts.BadCredentials:
            return "wrong password"
        return "signed in"

    with ThreadPoolExecutor(max_workers=tries) as pool:
        answers = sorted(pool.map(guess, range(tries)))

    assert answers.count("wrong password") == accounts.MAX_FAILURES_PER_IP
    assert answers.count("refused") == 10
