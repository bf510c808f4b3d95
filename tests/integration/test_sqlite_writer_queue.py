"""SQLite writers of one process queue in order instead of sleeping in SQLite's busy handler."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, func, insert, select

from regulars.store.tables import households
from regulars.store.uow import UnitOfWork


def test_many_threads_writing_at_once_all_succeed_and_none_waits_long(
    sqlite_engine: Engine,
) -> None:
    waits: list[float] = []
    errors: list[Exception] = []

    def writer(n: int) -> None:
        for i in range(20):
            began = time.perf_counter()
            try:
                with UnitOfWork(sqlite_engine) as uow:
                    waits.append(time.perf_counter() - began)
                    uow.conn.execute(insert(households).values(name=f"{n}-{i}"))
                    uow.commit()
            except Exception as error:  # collected and reported below
                errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with sqlite_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(households)) == 160
    # Queued writers take turns of a few milliseconds; the busy handler slept up to 100 ms
    # per retry and left single writers waiting for seconds.
    assert max(waits) < 2.0


def test_a_writer_that_fails_to_start_does_not_block_the_next(sqlite_engine: Engine) -> None:
    class Boom(Exception):
        pass

    with UnitOfWork(sqlite_engine) as uow:
        uow.conn.execute(insert(households).values(name="first"))
        uow.commit()
    try:
        with UnitOfWork(sqlite_engine) as uow:
            raise Boom
    except Boom:
        pass
    done = threading.Event()

    def other_thread() -> None:
        with UnitOfWork(sqlite_engine) as uow:
            uow.conn.execute(insert(households).values(name="second"))
            uow.commit()
        done.set()

    threading.Thread(target=other_thread).start()
    assert done.wait(5), "the write lock was left held"


def test_after_commit_the_unit_of_work_holds_no_write_lock(sqlite_engine: Engine) -> None:
    done = threading.Event()
    with UnitOfWork(sqlite_engine) as uow:
        uow.conn.execute(insert(households).values(name="mine"))
        uow.commit()

        def other_thread() -> None:
            with UnitOfWork(sqlite_engine) as other:
                other.conn.execute(insert(households).values(name="theirs"))
                other.commit()
            done.set()

        threading.Thread(target=other_thread).start()
        assert done.wait(5), "another writer could not write while this one lingered"
