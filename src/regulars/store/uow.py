"""The unit of work: one transaction per command, and side effects only after it commits.

Services open one, do their reads and writes through ``uow.conn``, and call ``commit``.
Anything that talks to the outside world (an e-mail, a webhook) is registered with
``after_commit`` so that a rolled-back command never leaves a message behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine


class UnitOfWork:
    """A transaction on one connection; rolls back unless committed."""

    def __init__(self, engine: Engine, *, readonly: bool = False) -> None:
        self.engine = engine
        self.readonly = readonly
        self._conn: Connection | None = None
        self._after_commit: list[Callable[[], None]] = []

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open; use it in a with-block")
        return self._conn

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __enter__(self) -> Self:
        conn = self.engine.connect()
        if self.readonly:
            conn = conn.execution_options(readonly=True)
        conn.begin()
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

    def commit(self) -> None:
        """Commit, then run the side effects registered during the transaction."""
        self.conn.commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()
        self.conn.begin()

    def rollback(self) -> None:
        self.conn.rollback()
        self._after_commit = []
        self.conn.begin()

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)
