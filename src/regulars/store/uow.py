"""The unit of work: one transaction per command, and side effects only after it commits.

Services open one, do their reads and writes through ``uow.conn``, and call ``commit``.
Anything that talks to the outside world (an e-mail, a webhook) is registered with
``after_commit`` so that a rolled-back command never leaves a message behind it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

#: SQLite has one writer at a time. Writers of one process queue here, in order, instead of
#: in SQLite's busy handler, which sleeps in growing steps (up to 100 ms) and made the p99 of
#: concurrent check-ins hundreds of milliseconds (bench/checkin_load.py).
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def _writer_lock(engine: Engine) -> threading.RLock | None:
    if engine.dialect.name != "sqlite":
        return None
    with _GUARD:
        lock = _SQLITE_WRITERS.get(engine)
        if lock is None:
            lock = _SQLITE_WRITERS[engine] = threading.RLock()
        return lock


#: How a read-only unit of work reads. SQLite: a deferred BEGIN (store.db), which already
#: reads one snapshot without taking the write lock. PostgreSQL: one snapshot for the whole
#: read too (an export or a 360° page shows one moment, not rows committed halfway through
#: it), and the server refuses a write slipped into a read. psycopg sends both with BEGIN.
_READ_ONLY: dict[str, dict[str, object]] = {
    "sqlite": {"readonly": True},
    "postgresql": {
        "readonly": True,
        "isolation_level": "REPEATABLE READ",
        "postgresql_readonly": True,
    },
}


class UnitOfWork:
    """A transaction on one connection; rolls back unless committed."""

    def __init__(self, engine: Engine, *, readonly: bool = False) -> None:
        self.engine = engine
        self.readonly = readonly
        self._conn: Connection | None = None
        self._after_commit: list[Callable[[], None]] = []
        self._writing: threading.RLock | None = None

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open; use it in a with-block")
        return self._conn

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __enter__(self) -> Self:
        if not self.readonly:
            self._writing = _writer_lock(self.engine)
            if self._writing is not None:
                self._writing.acquire()
        try:
            conn = self.engine.connect()
            if self.readonly:
                conn = conn.execution_options(**_READ_ONLY[self.engine.dialect.name])
            conn.begin()
        except BaseException:
            self._release()
            raise
        self._conn = conn
        self._after_commit = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self.conn
        try:
            if conn.in_transaction():
                conn.rollback()
        finally:
            conn.close()
            self._conn = None
            self._release()

    def _release(self) -> None:
        if self._writing is not None:
            self._writing.release()
            self._writing = None

    def commit(self) -> None:
        """Commit, then run the side effects registered during the transaction.

        No new transaction is begun here: one starts by itself if the connection is used
        again, so a finished writer does not take SQLite's write lock a second time.
        """
        self.conn.commit()
        self._release()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        self.conn.rollback()
        self._after_commit = []
        self.conn.begin()

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)
