"""Running a one-command service inside a bigger transaction, one savepoint per call.

Services such as ``create_customer`` and ``enrol`` open, write and commit their own unit of
work: right for one request, slow for a file of fifty thousand rows. Handed a ``Savepoint``,
the service's "commit" releases a savepoint of the caller's transaction and its failure
rolls back only its own writes; the caller commits (or, on a dry run, discards) a whole
batch at once. The service's code is the same; only the transaction boundary moves.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from regulars.store.uow import UnitOfWork


class Savepoint(UnitOfWork):
    """A unit of work nested in ``outer``'s open transaction.

    Side effects the service registers with ``after_commit`` run after ``outer`` really
    commits, never when the savepoint is released.
    """

    def __init__(self, outer: UnitOfWork) -> None:
        super().__init__(outer.engine)
        self.outer = outer
        self._nested: Any = None

    def __enter__(self) -> Self:
        self._conn = self.outer.conn
        self._nested = self._conn.begin_nested()
        self._after_commit = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._nested is not None and self._nested.is_active:
            self._nested.rollback()
        self._conn = None

    def commit(self) -> None:
        self._nested.commit()
        for callback in self._after_commit:
            self.outer.after_commit(callback)
        self._after_commit = []

    def rollback(self) -> None:
        self._nested.rollback()
        self._nested = self.outer.conn.begin_nested()
        self._after_commit = []


__all__ = ["Savepoint"]
