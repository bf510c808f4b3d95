"""Loading a big database fast: secondary indexes built once after the rows, not row by row.

Every row written into a table updates each of its indexes, and an index keyed on a name, a
birthday or a time lands each row at a random place in it: once such an index outgrows the
page cache, almost every insert touches a page that is not in memory. Building the index
after the rows sorts them once instead. The demo uses this for a fresh database (a
million customers, twelve million events).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, Index

from regulars.store.schema import metadata

#: Indexes the write path itself reads while loading: returns find their purchases and
#: loyalty finds a purchase's lot and a member's lots through them. Without them each batch
#: would scan. Unique indexes and keys always stay: they are what makes a write correct.
READ_WHILE_WRITING = frozenset(
    {
        "ix_events_ref_event_id",
        "ix_events_customer_id_occurred_at",
        "ix_loyalty_ledger_member_id_kind",
        "ix_loyalty_ledger_event_id",
    }
)


def deferrable_indexes() -> list[Index]:
    """The non-unique indexes a bulk load can build afterwards."""
    return [
        index
        for table in metadata.sorted_tables
        for index in sorted(table.indexes, key=lambda i: str(i.name))
        if not index.unique and index.name not in READ_WHILE_WRITING
    ]


@contextmanager
def indexes_built_after(engine: Engine) -> Iterator[list[Index]]:
    """Drop the deferrable indexes for the block, then build each once.

    They are built again whether the block finishes or fails, so the schema is always whole
    afterwards. Only for a database nothing else uses meanwhile: queries that need these
    indexes would scan while they are gone.
    """
    deferred = deferrable_indexes()
    with engine.begin() as conn:
        _fresh_schema(conn)
        for index in deferred:
            index.drop(conn)
    try:
        yield deferred
    finally:
        with engine.begin() as conn:
            _fresh_schema(conn)
            for index in deferred:
                index.create(conn)


def _fresh_schema(conn: Connection) -> None:
    """Make this connection see the schema as it is now.

    SQLite checks whether an index name is taken against the connection's cached schema,
    before it notices that another connection has changed it: a pooled connection last used
    before the indexes were dropped refused to create them again ("already exists"). Reading
    the schema table in the transaction reloads a stale cache.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()


__all__ = ["READ_WHILE_WRITING", "deferrable_indexes", "indexes_built_after"]
