"""Thread-race scaffolding: start several calls at the same moment and collect what they did."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine, text


def at_once(calls: list[Callable[[], object]]) -> list[object]:
    """Run each call on its own thread, all released together; each result or the error raised
    (in the order they finished)."""
    start = threading.Barrier(len(calls))
    results: list[object] = []
    lock = threading.Lock()

    def run(call: Callable[[], object]) -> None:
        start.wait()
        try:
            result: object = call()
        except Exception as error:  # the outcome under test
            result = error
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def someone_waits_on_a_lock(engine: Engine) -> bool:
    """On PostgreSQL, whether a session of this database waits on a lock; on SQLite always
    true (a second writer queues for the one writer lock in-process)."""
    if engine.dialect.name != "postgresql":
        return True
    with engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "select count(*) from pg_stat_activity"
                    " where datname = current_database() and wait_event_type = 'Lock'"
                )
            )
        )
